#!/bin/sh
# record.sh re-records the real llama.cpp server responses that Berth's
# tests replay byte for byte (see llmtest.Replay). CI never runs it: it
# needs a llama-server binary and a GGUF model, which take ~20 minutes to
# build (recipe: ../shared/RECIPES.md, "A real llama.cpp server").
#
#   LLAMA_SERVER=/work/llama/llama.cpp/build/bin/llama-server \
#   MODEL=/work/llama/tiny-qwen2.gguf \
#   sh app/llm/llmtest/testdata/llamacpp/record.sh
#
# For each recording NAME it writes NAME.req (what was sent), NAME.head
# (status line and headers, as curl -D saves them) and NAME.body (the body,
# byte for byte). Then run the replay tests:
#   go test -run 'Replay|LlamaCpp' ./app/llm/... ./app/assistant/ ./app/cli/
set -eu
: "${LLAMA_SERVER:?set LLAMA_SERVER to the llama-server binary}"
: "${MODEL:?set MODEL to a GGUF model (the tiny Qwen2 of ../shared/llm/make_tiny_qwen.py)}"
DIR=$(cd "$(dirname "$0")" && pwd)
PORT=${PORT:-18090}
URL=http://127.0.0.1:$PORT
PID=

stop() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; PID=; }
trap stop EXIT

# serve starts llama-server with the default flags plus "$@" and waits
# until it is ready.
serve() {
	stop
	nice -n 19 "$LLAMA_SERVER" -m "$MODEL" --host 127.0.0.1 --port "$PORT" --jinja --alias tiny -np 1 --seed 7 "$@" \
		>"$DIR/.server.log" 2>&1 &
	PID=$!
	i=0
	until curl -sf "$URL/health" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 600 ] || { echo "llama-server did not start; see $DIR/.server.log" >&2; exit 1; }
		sleep 0.2
	done
}

# rec NAME METHOD PATH [BODY]: record one exchange.
rec() {
	name=$1 method=$2 path=$3 body=${4:-}
	printf '%s %s\n%s' "$method" "$path" "$body" >"$DIR/$name.req"
	if [ -n "$body" ]; then
		curl -sS -N -X "$method" -H 'Content-Type: application/json' --data-binary "$body" \
			-D "$DIR/$name.head" -o "$DIR/$name.body" "$URL$path"
	else
		curl -sS -N -X "$method" -D "$DIR/$name.head" -o "$DIR/$name.body" "$URL$path"
	fi
	echo "recorded $name: $(head -1 "$DIR/$name.head" | tr -d '\r'), $(wc -c <"$DIR/$name.body") bytes"
}

TOOLS='[{"type":"function","function":{"name":"bash","description":"Run a shell command in the sandbox.","parameters":{"type":"object","properties":{"command":{"type":"string"},"timeout_s":{"type":"integer"}},"required":["command"]}}},{"type":"function","function":{"name":"write_file","description":"Write a file.","parameters":{"type":"object","properties":{"path":{"type":"string"},"content":{"type":"string"}},"required":["path","content"]}}}]'
ATOOLS='[{"name":"bash","description":"Run a shell command in the sandbox.","input_schema":{"type":"object","properties":{"command":{"type":"string"}},"required":["command"]}}]'
SYS='You are Berth, a careful personal assistant.'
chat() { # chat MAX_TOKENS [TOOLS]
	tools=""
	[ -n "${2:-}" ] && tools=",\"tools\":$2"
	printf '{"model":"tiny","stream":true,"stream_options":{"include_usage":true},"max_tokens":%s,"messages":[{"role":"system","content":"%s"},{"role":"user","content":"List my files."}]%s}' "$1" "$SYS" "$tools"
}
messages() { # messages MAX_TOKENS [TOOLS]
	tools=""
	[ -n "${2:-}" ] && tools=",\"tools\":$2"
	printf '{"model":"tiny","stream":true,"max_tokens":%s,"system":"%s","messages":[{"role":"user","content":"List my files."}]%s}' "$1" "$SYS" "$tools"
}

# A normal server: text, a reply cut by max_tokens, /props, Anthropic format.
serve -c 8192
rec props GET /props
rec chat-text POST /v1/chat/completions "$(chat 64)"
rec chat-length POST /v1/chat/completions "$(chat 6)"
rec messages-text POST /v1/messages "$(messages 64)"

# <tool_call> made likely: real grammar-constrained tool calls, whole and cut.
serve -c 8192 --logit-bias 151657+10
rec chat-tool POST /v1/chat/completions "$(chat 400 "$TOOLS")"
rec chat-tool-cut POST /v1/chat/completions "$(chat 32 "$TOOLS")"
rec messages-tool POST /v1/messages "$(messages 400 "$ATOOLS")"

# A small context: /props says so, and a long request is refused.
serve -c 2048
rec props-2048 GET /props
LONG=$(i=0; while [ $i -lt 700 ]; do printf 'the files of the project are here '; i=$((i + 1)); done)
rec overflow POST /v1/chat/completions "{\"model\":\"tiny\",\"stream\":true,\"max_tokens\":64,\"messages\":[{\"role\":\"user\",\"content\":\"$LONG\"}]}"
rec messages-overflow POST /v1/messages "{\"model\":\"tiny\",\"stream\":true,\"max_tokens\":64,\"messages\":[{\"role\":\"user\",\"content\":\"$LONG\"}]}"
stop
rm -f "$DIR/.server.log"
