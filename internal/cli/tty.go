package cli

import (
	"io"
	"os"
	"os/signal"

	"golang.org/x/sys/unix"
)

// proxyTerminal connects the user's terminal to the container's pty for
// `run` without --console-socket: raw mode on our terminal (restored by the
// returned function), the window size passed on now and on every SIGWINCH.
func proxyTerminal(pty *os.File) (restore func()) {
	go io.Copy(os.Stdout, pty)
	go io.Copy(pty, os.Stdin)
	in := int(os.Stdin.Fd())
	saved, err := unix.IoctlGetTermios(in, unix.TCGETS)
	if err != nil {
		return func() {} // stdin is not a terminal: plain copying is all there is
	}
	raw := *saved
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	_ = unix.IoctlSetTermios(in, unix.TCSETS, &raw)
	resize := func() {
		if ws, err := unix.IoctlGetWinsize(in, unix.TIOCGWINSZ); err == nil {
			_ = unix.IoctlSetWinsize(int(pty.Fd()), unix.TIOCSWINSZ, ws)
		}
	}
	resize()
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, unix.SIGWINCH)
	go func() {
		for range winch {
			resize()
		}
	}()
	return func() {
		signal.Stop(winch)
		_ = unix.IoctlSetTermios(in, unix.TCSETS, saved)
	}
}
