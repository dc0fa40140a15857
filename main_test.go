package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/llmedge/llmedge/internal/testbin"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/llmedge/llmedge/internal/wait"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// buildBinary builds llmedge (with the race detector) once per test run.
func buildBinary(t *testing.T) string { return testbin.Build(t, ".", true) }

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// syncBuffer is a bytes.Buffer safe for the process writer and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type proc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan error
	base   string
}

// start runs llmedge serve and waits until it answers liveliness.
func start(t *testing.T, bin string, env []string, args ...string) *proc {
	t.Helper()
	port := freePort(t)
	args = append([]string{"serve", "--host", "127.0.0.1", "--port", fmt.Sprint(port)}, args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	p := &proc{cmd: cmd, stderr: new(syncBuffer), done: make(chan error, 1), base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(p.base + "/health/liveliness")
		if err == nil {
			resp.Body.Close()
			return p
		}
		select {
		case err := <-p.done:
			t.Fatalf("llmedge exited early: %v\n%s", err, p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("llmedge did not come up:\n%s", p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestExampleConfigServesWithoutKeys(t *testing.T) {
	bin := buildBinary(t)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OPENAI_API_KEY=") {
			env = append(env, kv)
		}
	}
	p := start(t, bin, env, "--config", "config.yaml.example")
	client := openai.NewClient(option.WithBaseURL(p.base+"/v1"), option.WithAPIKey("sk-1234"), option.WithMaxRetries(0))
	params := openai.ChatCompletionNewParams{Model: "demo", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream := client.Chat.Completions.NewStreaming(ctx, params)
	acc := openai.ChatCompletionAccumulator{}
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(acc.Choices[0].Message.Content, "Hello from llmedge!") {
		t.Fatalf("content %q", acc.Choices[0].Message.Content)
	}
	// The unavailable deployment was reported at startup by variable name.
	if !strings.Contains(p.stderr.String(), "OPENAI_API_KEY") {
		t.Errorf("startup did not warn about OPENAI_API_KEY:\n%s", p.stderr)
	}
}

func TestConfigErrorExitsTwoNamingThePath(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	cases := map[string]struct{ yaml, want string }{
		"missing model":            {"model_list:\n  - model_name: a\n    litellm_params: {model: mock/x}\n  - model_name: b\n    litellm_params: {api_key: x}\n", "model_list[1].litellm_params.model"},
		"master key env unset":     {"model_list: []\ngeneral_settings:\n  master_key: os.environ/LLMEDGE_TEST_UNSET_MASTER\n", "LLMEDGE_TEST_UNSET_MASTER"},
		"api_base required":        {"model_list:\n  - model_name: a\n    litellm_params: {model: hosted_vllm/x}\ngeneral_settings: {master_key: sk-1}\n", "model_list[0].litellm_params.api_base"},
		"unknown provider, strict": {"model_list:\n  - model_name: a\n    litellm_params: {model: nosuchprovider/x}\ngeneral_settings: {master_key: sk-1}\n", "nosuchprovider"},
		"ignored key, strict":      {"model_lists:\n  - model_name: a\n    litellm_params: {model: mock/x}\ngeneral_settings: {master_key: sk-1}\n", "did you mean model_list?"},
		"litellm_params key, strict": {"model_list:\n  - model_name: a\n    litellm_params: {model: mock/x, temprature: 0.2}\ngeneral_settings: {master_key: sk-1}\n",
			`model_list[].litellm_params.temprature (model_name "a"): not a litellm_params key llmedge acts on; ignored; did you mean temperature?`},
		"no key anywhere": {"model_list:\n  - model_name: a\n    litellm_params: {model: mock/x}\n", "LITELLM_MASTER_KEY"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "serve", "--strict", "--config", path, "--port", fmt.Sprint(freePort(t)))
			out, err := cmd.CombinedOutput()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 2 {
				t.Fatalf("exit %v, want code 2\n%s", err, out)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Fatalf("output does not name %q:\n%s", tc.want, out)
			}
		})
	}
}

// LITELLM_MASTER_KEY is the master key when the file sets none, as in
// LiteLLM: without it such a config would serve everyone.
func TestMasterKeyFromEnvironment(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte("model_list:\n  - model_name: m\n    litellm_params: {model: mock/m, mock_response: hi}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	p := start(t, bin, append(os.Environ(), "LITELLM_MASTER_KEY=sk-env-key"), "--config", cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	params := openai.ChatCompletionNewParams{Model: "m", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}
	for key, wantOK := range map[string]bool{"sk-env-key": true, "sk-wrong": false} {
		client := openai.NewClient(option.WithBaseURL(p.base+"/v1"), option.WithAPIKey(key), option.WithMaxRetries(0))
		_, err := client.Chat.Completions.New(ctx, params)
		var apiErr *openai.Error
		switch {
		case wantOK && err != nil:
			t.Errorf("key from LITELLM_MASTER_KEY refused: %v", err)
		case !wantOK && (!errors.As(err, &apiErr) || apiErr.StatusCode != 401):
			t.Errorf("wrong key: %v, want 401", err)
		}
	}
}

// Keys llmedge does not act on are warnings, visible at --log-level warn.
func TestIgnoredKeysWarnAtStartup(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte("model_list:\n  - model_name: m\n    litellm_params: {model: mock/m, region_name: eu}\ngeneral_settings:\n  master_key: sk-1\n  store_model_in_db: true\nrouter_settings:\n  cache_responses: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, buildBinary(t), nil, "--config", cfg, "--log-level", "warn")
	for _, want := range []string{"general_settings.store_model_in_db: true is not acted on: models come from this file only",
		`model_list[].litellm_params.region_name (model_name \"m\"): deployments are not chosen by the client's region`, "router_settings.cache_responses: not acted on: the response cache is set by litellm_settings.cache"} {
		wait.For(t, 10*time.Second, "warning "+want, func() bool { return strings.Contains(p.stderr.String(), want) })
	}
}

// SIGTERM lets an in-flight stream finish, then exits 0.
func TestGracefulShutdownFinishesStreams(t *testing.T) {
	release := make(chan struct{})
	up := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"one \"},\"finish_reason\":null}]}\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		io.WriteString(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"two\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = up.Serve(ln) }()
	defer up.Close()

	cfg := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("model_list:\n  - model_name: m\n    litellm_params: {model: openai/m, api_base: http://%s/v1, api_key: k}\n", ln.Addr())), 0o600)
	bin := buildBinary(t)
	p := start(t, bin, nil, "--config", cfg, "--grace", "10s", "--allow-no-auth")

	req, _ := http.NewRequest("POST", p.base+"/v1/chat/completions", strings.NewReader(`{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`))
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	first, err := br.ReadString('\n')
	if err != nil || !strings.Contains(first, "one") {
		t.Fatalf("first event %q %v", first, err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The signal has landed once shutdown closed the listener: the stream
	// is still open, its upstream not yet released.
	addr := strings.TrimPrefix(p.base, "http://")
	wait.For(t, 10*time.Second, "llmedge to stop accepting connections after SIGTERM", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	close(release)
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatalf("stream cut during shutdown: %v", err)
	}
	if !strings.Contains(string(rest), "two") || !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
		t.Fatalf("stream did not finish: %q", rest)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, p.stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("llmedge did not exit after SIGTERM")
	}
}
