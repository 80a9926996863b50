package cli

import (
	"io"
	"os"
	"os/signal"
	"time"

	"golang.org/x/sys/unix"
)

// proxyTerminal connects the user's terminal to the container's pty for
// `run` and `exec` without --console-socket: raw mode on our terminal, the
// window size passed on now and on every SIGWINCH. The returned function,
// called once the process has exited, lets the last output through (the
// pty reads EIO when its last user is gone; bounded) and restores the terminal.
func proxyTerminal(pty *os.File) (restore func()) {
	drained := make(chan struct{})
	go func() { io.Copy(os.Stdout, pty); close(drained) }()
	go io.Copy(pty, os.Stdin)
	drain := func() {
		select {
		case <-drained:
		case <-time.After(2 * time.Second):
		}
	}
	in := int(os.Stdin.Fd())
	saved, err := unix.IoctlGetTermios(in, unix.TCGETS)
	if err != nil {
		return drain // stdin is not a terminal: plain copying is all there is
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
		drain()
		signal.Stop(winch)
		_ = unix.IoctlSetTermios(in, unix.TCSETS, saved)
	}
}
