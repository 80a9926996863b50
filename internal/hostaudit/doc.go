// Package hostaudit implements `trustbox check host`: it reads a host's /proc, /sys and /etc (the live one or a recorded fixture under a root directory), never changes it, and reports one finding per check against the requirement IDs.
package hostaudit
