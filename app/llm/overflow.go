package llm

import (
	"regexp"
	"strconv"
	"strings"
)

// overflowPatterns read the request's and the context's size from the
// context-overflow messages of the servers Berth meets. Each names its
// groups "req" and "ctx".
var overflowPatterns = []*regexp.Regexp{
	// llama.cpp's llama-server.
	regexp.MustCompile(`request \((?P<req>\d+) tokens\) exceeds the available context size \((?P<ctx>\d+) tokens\)`),
	// OpenAI and vLLM.
	regexp.MustCompile(`maximum context length is (?P<ctx>\d+) tokens.*?(?:resulted in|requested) (?P<req>\d+) tokens`),
	// Anthropic.
	regexp.MustCompile(`prompt is too long: (?P<req>\d+) tokens > (?P<ctx>\d+) maximum`),
}

// overflowTypes are error types and codes that mean the context is full.
var overflowTypes = []string{"exceed_context_size_error", "context_length_exceeded", "request_too_large"}

// contextOverflow reports whether a refused request was refused for not
// fitting the model's context, with the sizes when the server said them.
func contextOverflow(f failure) (request, context int, ok bool) {
	for _, re := range overflowPatterns {
		m := re.FindStringSubmatch(f.message)
		if m == nil {
			continue
		}
		request, _ = strconv.Atoi(m[re.SubexpIndex("req")])
		context, _ = strconv.Atoi(m[re.SubexpIndex("ctx")])
		return request, context, true
	}
	for _, t := range overflowTypes {
		if f.errType == t || f.code == t {
			return 0, 0, true
		}
	}
	msg := strings.ToLower(f.message)
	for _, s := range []string{"context length", "context size", "context window", "too many tokens"} {
		if strings.Contains(msg, s) {
			return 0, 0, true
		}
	}
	return 0, 0, false
}
