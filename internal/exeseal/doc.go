// Package exeseal makes a sealed, read-only in-memory copy of the trustbox binary to re-exec as container init (CVE-2019-5736).
package exeseal
