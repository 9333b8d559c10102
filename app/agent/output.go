package agent

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// cutUTF8 returns at most the first n bytes of b, not splitting a character.
func cutUTF8(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	for n > 0 && n < len(b) && !utf8.RuneStart(b[n]) {
		n--
	}
	return b[:n]
}

// tailUTF8 returns at most the last n bytes of b, not splitting a character.
func tailUTF8(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	i := len(b) - n
	for i < len(b) && !utf8.RuneStart(b[i]) {
		i++
	}
	return b[i:]
}

// capText keeps s whole when it fits in limit bytes; else its head and its
// tail around a marker saying how much was cut, so that both how a command
// started and how it ended survive.
func capText(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	marker := func(n int) string {
		return fmt.Sprintf("\n[... %d bytes cut from the middle of the output ...]\n", n)
	}
	room := limit - len(marker(len(s)))
	if room < 2 {
		return string(cutUTF8([]byte(s), limit))
	}
	head := cutUTF8([]byte(s), room/2)
	tail := tailUTF8([]byte(s), room-len(head))
	return string(head) + marker(len(s)-len(head)-len(tail)) + string(tail)
}

// preview returns the start of s for an event, at most PreviewBytes.
func preview(s string) string {
	if len(s) <= PreviewBytes {
		return s
	}
	return string(cutUTF8([]byte(s), PreviewBytes-3)) + "…"
}

// oneLine squeezes s onto one line of at most n characters, for summaries.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// text turns command output into valid UTF-8 for the model.
func text(b []byte) string {
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
