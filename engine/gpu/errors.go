package gpu

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ErrDeviceLost is returned (wrapped) by Submit and Read once the WebGPU
// device is lost: the caller recreates the backend (New) and reloads its
// last checkpoint.
var ErrDeviceLost = errors.New("gpu: device lost")

// ShaderError is a WGSL compilation failure, located in the embedded file.
type ShaderError struct {
	File  string // e.g. "matmul.wgsl"
	Entry string // entry point being built
	Line  int    // 1-based; 0 when the compiler gave no location
	Col   int
	Msg   string // first line of the compiler's message
	Text  string // the offending source line, if known
	Err   error  // the full compiler error
}

func (e *ShaderError) Error() string {
	var sb strings.Builder
	sb.WriteString("shaders/" + e.File)
	if e.Line > 0 {
		fmt.Fprintf(&sb, ":%d:%d", e.Line, e.Col)
	}
	fmt.Fprintf(&sb, ": %s (entry point %s)", e.Msg, e.Entry)
	if e.Text != "" {
		fmt.Fprintf(&sb, "\n\t%d | %s", e.Line, e.Text)
	}
	return sb.String()
}

func (e *ShaderError) Unwrap() error { return e.Err }

// naga reports locations as "┌─ wgsl:LINE:COL"; Tint as ":LINE:COL error:".
var (
	wgslLocation = regexp.MustCompile(`wgsl:(\d+):(\d+)`)
	shaderMsg    = regexp.MustCompile(`Shader '[^']*' (.*)`)
)

// shaderError builds a ShaderError from a native compiler error message.
func shaderError(file, entry, src string, err error) *ShaderError {
	se := &ShaderError{File: file, Entry: entry, Err: err}
	msg := err.Error()
	if m := wgslLocation.FindStringSubmatch(msg); m != nil {
		se.Line, _ = strconv.Atoi(m[1])
		se.Col, _ = strconv.Atoi(m[2])
	}
	if m := shaderMsg.FindStringSubmatch(msg); m != nil {
		se.Msg = strings.TrimSpace(m[1])
	} else {
		se.Msg = strings.TrimSpace(strings.SplitN(msg, "\n", 2)[0])
	}
	se.Text = sourceLine(src, se.Line)
	return se
}

// sourceLine returns line n (1-based) of src, trimmed, or "".
func sourceLine(src string, n int) string {
	if n <= 0 {
		return ""
	}
	lines := strings.Split(src, "\n")
	if n > len(lines) {
		return ""
	}
	return strings.TrimSpace(lines[n-1])
}

// classify wraps errors that mean the device is gone with ErrDeviceLost.
func classify(err error) error {
	if err == nil || errors.Is(err, ErrDeviceLost) {
		return err
	}
	s := strings.ToLower(err.Error())
	if strings.Contains(s, "device lost") || strings.Contains(s, "device is lost") ||
		strings.Contains(s, "parent device is lost") || strings.Contains(s, "devicelost") {
		return fmt.Errorf("%w: %v", ErrDeviceLost, err)
	}
	return err
}
