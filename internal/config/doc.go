// Package config is the resolved, plain-data configuration the runtime hands to the container's init over its sync socket.
package config
