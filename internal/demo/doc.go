// Package demo runs a container from the image embedded in trustbox with every protection on and reports what protected it.
package demo
