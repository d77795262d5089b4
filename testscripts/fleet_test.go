package testscripts

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rogpeppe/go-internal/testscript"
)

// The fleet scenarios (TokenStorage: redis) run against real redis-server
// processes the script starts on 127.0.0.1 and random ports, and stops.

func withFleetCmds(m map[string]func(ts *testscript.TestScript, neg bool, args []string)) map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	m["redis"] = cmdRedis
	m["fleet"] = cmdFleet
	return m
}

// redisNode is one redis-server a script started.
type redisNode struct {
	port int
	cmd  *exec.Cmd
	dir  string
}

type redisState struct {
	mu       sync.Mutex
	nodes    []*redisNode
	hangups  *atomic.Int64 // connections the hang-up listener accepted (redis hangup)
	sentinel *redisNode    // redis sentinel's Sentinel
	killed   int           // the port redis kill-master killed
}

func redisOf(ts *testscript.TestScript) *redisState {
	st := stateOf(ts)
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.redis == nil {
		st.redis = &redisState{}
	}
	return st.redis
}

// redisInstalled is the [redis] condition: scenarios say
// `[!redis] skip 'redis-server is not installed'` so a local run shows why
// it skipped; in CI a missing component is a failure (.ci/run installs it).
func redisInstalled() (bool, error) {
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("CI") == "true" {
				return false, fmt.Errorf("%s is not installed; CI must run the fleet scenarios (.ci/run installs redis-server)", bin)
			}
			return false, nil
		}
	}
	return true, nil
}

func needRedis(ts *testscript.TestScript) {
	if ok, err := redisInstalled(); !ok {
		ts.Fatalf("redis-server is not installed (%v): guard the scenario with [!redis] skip", err)
	}
}

// nodePorts hands out the ports of redis-server nodes from below the
// kernel's ephemeral range, each at most once per test process. A node a
// scenario kills (kill-master, stop) leaves its port free; in the
// ephemeral range another scenario's listener, or the local end of any
// connection, can take it within a second, and the dead master's replica
// and Sentinel then talk to a stranger: the Sentinel calls the master
// back up, converts the stranger into its replica, and a replica that
// reconnects resyncs from it and drops its data. The ports below that
// range are never picked by bind(0) or connect, and no two scenarios of
// this process share one.
var nodePorts struct {
	sync.Mutex
	next, low, high int
	given           map[int]bool
}

func nodePort(ts *testscript.TestScript) int {
	nodePorts.Lock()
	defer nodePorts.Unlock()
	if nodePorts.given == nil {
		nodePorts.given = map[int]bool{}
		nodePorts.low, nodePorts.high = 20000, 32768
		if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
			if f := strings.Fields(string(b)); len(f) == 2 {
				if lo, err := strconv.Atoi(f[0]); err == nil && lo > 4096 {
					nodePorts.low, nodePorts.high = max(1024, lo-12000), lo
				}
			}
		}
		span, _ := rand.Int(rand.Reader, big.NewInt(int64(nodePorts.high-nodePorts.low)))
		nodePorts.next = nodePorts.low + int(span.Int64())
	}
	for range nodePorts.high - nodePorts.low {
		port := nodePorts.next
		if nodePorts.next++; nodePorts.next == nodePorts.high {
			nodePorts.next = nodePorts.low
		}
		if nodePorts.given[port] {
			continue
		}
		nodePorts.given[port] = true
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil { // not some service's
			_ = l.Close()
			return port
		}
	}
	ts.Fatalf("no free port left for a redis-server node")
	return 0
}

// startRedis starts one redis-server and waits until it answers PING.
func startRedis(ts *testscript.TestScript, extra ...string) *redisNode {
	for attempt := 0; ; attempt++ {
		port := nodePort(ts)
		dir := ts.MkAbs(fmt.Sprintf("redis-%d", port))
		ts.Check(os.MkdirAll(dir, 0o700))
		args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--logfile", filepath.Join(dir, "log")}, extra...)
		cmd := exec.Command("redis-server", args...)
		ts.Check(cmd.Start())
		n := &redisNode{port: port, cmd: cmd, dir: dir}
		ts.Defer(func() {
			_ = n.cmd.Process.Signal(syscall.SIGCONT)
			_ = n.cmd.Process.Kill()
			_ = n.cmd.Wait()
		})
		if redisPing(port, 5*time.Second) && ownsPort(port, cmd.Process.Pid) {
			// Listed only once it answers: a node that failed to start
			// is no node a later command (cli, kill-master) should reach.
			rs := redisOf(ts)
			rs.mu.Lock()
			rs.nodes = append(rs.nodes, n)
			rs.mu.Unlock()
			return n
		}
		_ = cmd.Process.Kill() // it may be up on a port another took first
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		if attempt == 2 {
			ts.Fatalf("redis-server on port %d did not start:\n%s", port, log)
		}
	}
}

// ownsPort reports whether the redis-server answering on port is the
// process pid: a node that could not bind answers nothing, and another
// process's PONG must not pass for its own.
func ownsPort(port, pid int) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "redis-cli", "-h", "127.0.0.1", "-p", strconv.Itoa(port), "info", "server").Output()
	return err == nil && strings.Contains(string(out), "process_id:"+strconv.Itoa(pid)+"\r\n")
}

// redisPing waits until the node answers PING.
func redisPing(port int, within time.Duration) bool {
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err != nil {
			continue
		}
		_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
		_, _ = c.Write([]byte("PING\r\n"))
		line, _ := bufio.NewReader(c).ReadString('\n')
		_ = c.Close()
		if strings.HasPrefix(line, "+PONG") {
			return true
		}
	}
	return false
}

// sentinelMaster is the port of the master the Sentinel of redis sentinel
// names now.
func sentinelMaster(ts *testscript.TestScript, rs *redisState) int {
	rs.mu.Lock()
	sn := rs.sentinel
	rs.mu.Unlock()
	if sn == nil {
		ts.Fatalf("no Sentinel: run redis sentinel first")
	}
	f := strings.Fields(redisCLI(ts, sn.port, "sentinel", "get-master-addr-by-name", "fleet"))
	if len(f) != 2 {
		ts.Fatalf("the Sentinel names no master: %q", f)
	}
	port, err := strconv.Atoi(f[1])
	ts.Check(err)
	return port
}

// replicas are the data nodes of redis sentinel other than master that
// are still alive.
func replicas(rs *redisState, master int) []*redisNode {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	var out []*redisNode
	for _, n := range rs.nodes {
		if n != rs.sentinel && n.port != master && n.port != rs.killed {
			out = append(out, n)
		}
	}
	return out
}

// replicationOffset reads one offset of the node's INFO replication.
func replicationOffset(ts *testscript.TestScript, port int, field string) int64 {
	for _, line := range strings.Split(redisCLI(ts, port, "info", "replication"), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			ts.Check(err)
			return n
		}
	}
	ts.Fatalf("INFO replication on port %d has no %s", port, field)
	return 0
}

// redisCLI runs redis-cli against the node, bounded: a node that is
// paused (SIGSTOP) accepts a connection and never answers, and the harness
// must fail then, not hang.
func redisCLI(ts *testscript.TestScript, port int, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "redis-cli", append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(port)}, args...)...).CombinedOutput()
	if ctx.Err() != nil {
		ts.Fatalf("redis-cli %s: the node on port %d did not answer within 15 s", strings.Join(args, " "), port)
	}
	if err != nil {
		ts.Fatalf("redis-cli %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// redis start [redis-server flags]   one standalone node; sets REDIS (its URL) and REDIS_PORT
// redis tls [redis-server flags]     one node with TLS on REDIS_TLS_PORT (CA in redis-ca.pem), plain on REDIS_PORT
// redis cluster                      three masters made with redis-cli --cluster create; sets REDIS
// redis sentinel                     a master, a replica and a Sentinel (master name "fleet"); sets REDIS
// redis replicated                  wait until the Sentinel's replicas have applied all the master wrote
// redis kill-master | wait-failover  kill the Sentinel's master; wait for the replica's promotion
// redis stop | pause | resume        kill, SIGSTOP or SIGCONT every node
// redis cli ARGS...                  redis-cli against the first node (stdout kept)
// redis garbage | tamper             overwrite every stella entry with bytes that are no sealed session, or flip one bit of it
// redis hold-lock                   drop every stella entry and hold its lock, as a runner that hangs would
// redis sealed                       check no entry name reveals the client or scopes and no value holds a token
// redis fill                         fill the node to its maxmemory, so writes are refused (noeviction)
// redis hangup                       a listener on HANGUP_PORT that closes every connection it accepts
// redis hangup-count N               check the listener accepted N connections
func cmdRedis(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("usage: redis start|cluster|stop|pause|resume|cli|garbage|sealed|fill")
	}
	needRedis(ts)
	rs := redisOf(ts)
	first := func() *redisNode {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		if len(rs.nodes) == 0 {
			ts.Fatalf("redis %s: no redis started", args[0])
		}
		return rs.nodes[0]
	}
	signalAll := func(sig syscall.Signal) {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		for _, n := range rs.nodes {
			_ = n.cmd.Process.Signal(sig)
		}
	}
	switch args[0] {
	case "start":
		n := startRedis(ts, args[1:]...)
		ts.Setenv("REDIS", fmt.Sprintf("redis://127.0.0.1:%d", n.port))
		ts.Setenv("REDIS_PORT", strconv.Itoa(n.port))
	case "tls":
		// A node speaking TLS on REDIS_TLS_PORT with a certificate from a CA
		// of its own (redis-ca.pem), plain on REDIS_PORT for the harness.
		dir := ts.MkAbs("redis-tls")
		ts.Check(os.MkdirAll(dir, 0o700))
		writeTLSFiles(ts, dir)
		ts.Check(copyFile(filepath.Join(dir, "ca.pem"), ts.MkAbs("redis-ca.pem")))
		tlsPort := nodePort(ts)
		n := startRedis(ts, append([]string{"--tls-port", strconv.Itoa(tlsPort), "--tls-cert-file", filepath.Join(dir, "server.crt"),
			"--tls-key-file", filepath.Join(dir, "server.key"), "--tls-ca-cert-file", filepath.Join(dir, "ca.pem"), "--tls-auth-clients", "no"}, args[1:]...)...)
		ts.Setenv("REDIS_PORT", strconv.Itoa(n.port))
		ts.Setenv("REDIS_TLS_PORT", strconv.Itoa(tlsPort))
	case "cluster":
		var addrs []string
		var nodes []*redisNode
		for range 3 {
			n := startRedis(ts, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "3000")
			nodes = append(nodes, n)
			addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", n.port))
		}
		out, err := exec.Command("redis-cli", append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput()
		if err != nil {
			ts.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
		}
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			ok := true
			for _, n := range nodes {
				ok = ok && strings.Contains(redisCLI(ts, n.port, "cluster", "info"), "cluster_state:ok")
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				ts.Fatalf("the cluster never reached cluster_state:ok")
			}
		}
		ts.Setenv("REDIS", fmt.Sprintf("redis://%s?addr=%s&addr=%s", addrs[0], addrs[1], addrs[2]))
		ts.Setenv("REDIS_PORT", strconv.Itoa(nodes[0].port))
	case "sentinel":
		// A master, its replica, and one Sentinel watching them.
		master := startRedis(ts)
		replica := startRedis(ts, "--replicaof", "127.0.0.1", strconv.Itoa(master.port))
		port := nodePort(ts)
		dir := ts.MkAbs(fmt.Sprintf("sentinel-%d", port))
		ts.Check(os.MkdirAll(dir, 0o700))
		conf := filepath.Join(dir, "sentinel.conf")
		ts.Check(os.WriteFile(conf, []byte(fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\n"+
			"sentinel monitor fleet 127.0.0.1 %d 1\nsentinel down-after-milliseconds fleet 500\nsentinel failover-timeout fleet 2000\n",
			port, dir, filepath.Join(dir, "log"), master.port)), 0o600))
		cmd := exec.Command("redis-server", conf, "--sentinel")
		ts.Check(cmd.Start())
		sn := &redisNode{port: port, cmd: cmd, dir: dir}
		rs.mu.Lock()
		rs.nodes = append(rs.nodes, sn)
		rs.sentinel = sn
		rs.mu.Unlock()
		ts.Defer(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		if !redisPing(port, 5*time.Second) {
			ts.Fatalf("redis-sentinel did not start")
		}
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if strings.Contains(redisCLI(ts, replica.port, "info", "replication"), "master_link_status:up") &&
				strings.Contains(redisCLI(ts, port, "sentinel", "replicas", "fleet"), strconv.Itoa(replica.port)) {
				break
			}
			if time.Now().After(deadline) {
				ts.Fatalf("the Sentinel never saw the replica")
			}
		}
		ts.Setenv("REDIS", fmt.Sprintf("redis://127.0.0.1:%d?master_name=fleet", port))
		ts.Setenv("REDIS_PORT", strconv.Itoa(master.port))
		ts.Setenv("SENTINEL_PORT", strconv.Itoa(port))
	case "replicated":
		// Until every replica has applied all the master has written.
		// (WAIT would not do: it waits for the writes of its own
		// connection, and a new redis-cli connection has made none, so it
		// answers at once whatever the replica holds.)
		master := sentinelMaster(ts, rs)
		want := replicationOffset(ts, master, "master_repl_offset")
		for _, n := range replicas(rs, master) {
			for deadline := time.Now().Add(10 * time.Second); replicationOffset(ts, n.port, "slave_repl_offset") < want; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					ts.Fatalf("the replica on port %d never reached the master's offset %d", n.port, want)
				}
			}
		}
	case "kill-master":
		// The master the Sentinel names now dies (not the first node
		// started: a Sentinel that failed over on its own, as a loaded
		// machine can make it, has another); it notices after 500 ms.
		port := sentinelMaster(ts, rs)
		rs.mu.Lock()
		for _, n := range rs.nodes {
			if n.port == port {
				_ = n.cmd.Process.Kill()
				_ = n.cmd.Wait()
			}
		}
		rs.killed = port
		rs.mu.Unlock()
	case "wait-failover":
		// Until the Sentinel names another master than the dead one, and
		// that node says it is a master.
		rs.mu.Lock()
		killed := rs.killed
		rs.mu.Unlock()
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if port := sentinelMaster(ts, rs); port != killed && strings.Contains(redisCLI(ts, port, "info", "replication"), "role:master") {
				break
			}
			if time.Now().After(deadline) {
				ts.Fatalf("the Sentinel never failed over")
			}
		}
	case "stop":
		rs.mu.Lock()
		for _, n := range rs.nodes {
			_ = n.cmd.Process.Kill()
			_ = n.cmd.Wait()
		}
		rs.mu.Unlock()
	case "pause":
		signalAll(syscall.SIGSTOP)
	case "resume":
		signalAll(syscall.SIGCONT)
	case "hangup":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		ts.Defer(func() { _ = ln.Close() })
		rs.mu.Lock()
		rs.hangups = new(atomic.Int64)
		n := rs.hangups
		rs.mu.Unlock()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				n.Add(1)
				_ = c.Close()
			}
		}()
		ts.Setenv("HANGUP_PORT", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	case "hangup-count":
		rs.mu.Lock()
		n := rs.hangups
		rs.mu.Unlock()
		if n == nil || len(args) != 2 {
			ts.Fatalf("usage: redis hangup-count N, after redis hangup")
		}
		if got := strconv.FormatInt(n.Load(), 10); got != args[1] {
			ts.Fatalf("the hang-up listener accepted %s connections, want %s", got, args[1])
		}
	case "cli":
		_, _ = ts.Stdout().Write([]byte(redisCLI(ts, first().port, args[1:]...)))
	case "garbage", "tamper":
		// garbage: bytes that are no sealed session; tamper: one bit of
		// the sealed ciphertext flipped, as an operator editing it would.
		n := first()
		rc := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", n.port)})
		defer rc.Close()
		ctx := context.Background()
		keys, err := rc.Keys(ctx, "stella:*:session").Result()
		ts.Check(err)
		if len(keys) == 0 {
			ts.Fatalf("redis %s: no stella entry to spoil", args[0])
		}
		for _, k := range keys {
			v := []byte("not a sealed session at all, just bytes")
			if args[0] == "tamper" {
				v, err = rc.Get(ctx, k).Bytes()
				ts.Check(err)
				v[len(v)-20] ^= 0x01
			}
			ts.Check(rc.Set(ctx, k, v, 10*time.Minute).Err())
		}
	case "hold-lock":
		// Another runner is getting the token and never finishes: the
		// entry is gone and its lock is held for ten minutes.
		n := first()
		keys := strings.Fields(redisCLI(ts, n.port, "--scan", "--pattern", "stella:*:session"))
		if len(keys) == 0 {
			ts.Fatalf("redis hold-lock: no stella entry")
		}
		for _, k := range keys {
			redisCLI(ts, n.port, "del", k)
			redisCLI(ts, n.port, "set", strings.TrimSuffix(k, ":session")+":lock", "runner-17 pid 4242 0123abcd", "px", "600000")
		}
	case "sealed":
		n := first()
		keys := strings.Fields(redisCLI(ts, n.port, "--scan", "--pattern", "*"))
		if len(keys) == 0 {
			ts.Fatalf("redis sealed: the cache is empty")
		}
		st := stateOf(ts)
		st.mu.Lock()
		var secrets []string
		for _, s := range st.servers {
			secrets = append(secrets, s.Secrets()...)
		}
		st.mu.Unlock()
		for _, k := range keys {
			for _, word := range []string{ts.Getenv("STELLA_CLIENT_ID"), "packs", "jobs.read", "authority", "127.0.0.1"} {
				if word != "" && strings.Contains(strings.ToLower(k), strings.ToLower(word)) {
					ts.Fatalf("entry name %q reveals %q", k, word)
				}
			}
			v := redisCLI(ts, n.port, "--no-raw", "get", k)
			for _, s := range secrets {
				if len(s) >= 8 && strings.Contains(v, s) {
					ts.Fatalf("entry %s holds a token or secret in the clear", k)
				}
			}
			for _, word := range []string{"accessToken", "dpopKey", "client_credentials", ts.Getenv("STELLA_CLIENT_ID")} {
				if word != "" && strings.Contains(v, word) {
					ts.Fatalf("entry %s is readable: it contains %q", k, word)
				}
			}
		}
	case "fill":
		// Values until the server refuses a write, then smaller ones until
		// it refuses even a tiny one: past maxmemory for good (noeviction).
		// A fresh connection per size: the refused command's query buffer
		// counts against maxmemory until its connection closes.
		n := first()
		ctx := context.Background()
		i := 0
		for _, size := range []int{16 << 10, 1 << 10, 64} {
			rc := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", n.port)})
			for ; ; i++ {
				if i > 200000 {
					ts.Fatalf("redis fill: the node never refused a write; start it with --maxmemory")
				}
				err := rc.Set(ctx, fmt.Sprintf("filler:%d", i), strings.Repeat("x", size), 0).Err()
				if err != nil && strings.Contains(err.Error(), "OOM") {
					break
				}
				ts.Check(err)
			}
			_ = rc.Close()
		}
	default:
		ts.Fatalf("redis: unknown subcommand %q", args[0])
	}
}

// fleet N [-expect CODE] stella ARGS... runs N copies of the real stella at
// once, each with its own HOME and config directory (standing in for N
// hosts), and checks every one exits CODE (default 0). Their stderr goes
// to fleet.stderr, one block per runner, for the assertions that follow.
func cmdFleet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: fleet N [-expect CODE] stella ARGS...")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	args = args[1:]
	want := 0
	if args[0] == "-expect" {
		want, err = strconv.Atoi(args[1])
		ts.Check(err)
		args = args[2:]
	}
	if args[0] != "stella" {
		ts.Fatalf("fleet runs stella only")
	}
	bin, err := exec.LookPath("stella") // the test binary's, with no scenario's recording
	ts.Check(err)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STELLA_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	for _, name := range []string{"STELLA_AUTHORITY_URL", "STELLA_BACKEND_URL", "STELLA_CLIENT_ID", "STELLA_CLIENT_SECRET",
		"STELLA_CLIENT_SECRET_FILE", "STELLA_TOKEN_STORAGE", "STELLA_TOKEN_CACHE_URL", "STELLA_SCOPE", "STELLA_AUTH_MODE",
		"STELLA_TIMEOUT", "STELLA_AUDIENCE", "STELLA_TEST_CLOCK", "CI", "NO_COLOR"} {
		if v := ts.Getenv(name); v != "" {
			env = append(env, name+"="+v)
		}
	}
	type result struct {
		code   int
		stderr string
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		home := ts.MkAbs(fmt.Sprintf("runner-%d", i))
		ts.Check(os.MkdirAll(home, 0o700))
		cmd := exec.Command(bin, args[1:]...)
		cmd.Env = append(slicesClone(env), "HOME="+home, "STELLA_CONFIG_DIR="+filepath.Join(home, "cfg"))
		var errb bytes.Buffer
		cmd.Stderr = &errb
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				code = -1
			}
			results[i] = result{code, errb.String()}
		}()
	}
	close(start)
	wg.Wait()
	var all strings.Builder
	var bad []string
	for i, r := range results {
		fmt.Fprintf(&all, "== runner %d exit %d\n%s", i, r.code, r.stderr)
		if r.code != want {
			bad = append(bad, fmt.Sprintf("runner %d exited %d: %s", i, r.code, r.stderr))
		}
	}
	ts.Check(os.WriteFile(ts.MkAbs("fleet.stderr"), []byte(all.String()), 0o600))
	if len(bad) > 0 {
		ts.Fatalf("%d of %d runners did not exit %d:\n%s", len(bad), n, want, strings.Join(bad[:min(len(bad), 5)], "\n"))
	}
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// writeTLSFiles makes a CA and a server certificate for 127.0.0.1 signed
// by it: ca.pem, server.crt, server.key in dir.
func writeTLSFiles(ts *testscript.TestScript, dir string) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ts.Check(err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fleet cache test CA"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	ts.Check(err)
	ca, err := x509.ParseCertificate(caDER)
	ts.Check(err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ts.Check(err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	ts.Check(err)
	kb, err := x509.MarshalECPrivateKey(key)
	ts.Check(err)
	ts.Check(os.WriteFile(filepath.Join(dir, "ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600))
	ts.Check(os.WriteFile(filepath.Join(dir, "server.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	ts.Check(os.WriteFile(filepath.Join(dir, "server.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}
