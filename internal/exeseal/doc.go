// Package exeseal gives container init a read-only view of the trustbox binary to re-exec (a read-only detached mount, or a sealed memfd copy) against CVE-2019-5736.
package exeseal
