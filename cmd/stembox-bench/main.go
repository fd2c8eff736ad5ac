// Command stembox-bench is the load program behind `make bench`. It serves the
// same lesson page and the same 1 MB media file from
//
//	(a) stembox serve, with all its production features,
//	(b) a bare net/http handler writing the bytes from memory (Go's ceiling
//	    on this machine), and
//	(c) nginx, when it is installed,
//
// each in its own process, drives each with the same load (wrk, or a Go
// client without it) in interleaved rounds, and reports requests per second
// and the ratios between them, each ratio taken within a round. On a machine
// of two CPUs or more the servers share all but one CPU and the load has the
// last. It also reports stembox's cold start (packs installed, to the first
// page served) and its idle memory. Ratios, not absolute numbers, are the
// result: machines are noisy.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bare-serve" {
		bareServe(os.Args[2], os.Args[3], os.Args[4])
		return
	}
	var (
		stembox  = flag.String("stembox", "./stembox", "the stembox binary to measure")
		packs    = flag.String("packs", "content-packs", "sample pack sources")
		pack     = flag.String("pack", "physics-forces-motion", "the pack whose lesson is served")
		lesson   = flag.String("lesson", "speed", "the lesson served")
		duration = flag.Duration("duration", 3*time.Second, "length of each measurement")
		conns    = flag.Int("conns", 32, "concurrent connections")
		rounds   = flag.Int("rounds", 7, "interleaved rounds; the median is reported")
	)
	flag.Parse()
	if err := run(*stembox, *packs, *pack, *lesson, *duration, *conns, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "stembox-bench:", err)
		os.Exit(1)
	}
}

type target struct {
	name   string
	lesson string // URL
	media  string // URL
	stop   func()
}

func run(stembox, packs, pack, lesson string, d time.Duration, conns, rounds int) error {
	tmp, err := os.MkdirTemp("", "stembox-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	os.Chmod(tmp, 0o755) // nginx's workers run as another user
	stembox, _ = filepath.Abs(stembox)

	// A copy of the pack with a 1 MB media file (a stand-in for a video).
	src := filepath.Join(tmp, "content", pack)
	os.MkdirAll(filepath.Dir(src), 0o755)
	if err := exec.Command("cp", "-r", filepath.Join(packs, pack), src).Run(); err != nil {
		return fmt.Errorf("copy pack: %w", err)
	}
	media := make([]byte, 1<<20)
	for i := range media {
		media[i] = byte(i*7 + i>>9)
	}
	if err := os.WriteFile(filepath.Join(src, "media", "clip.mp4"), media, 0o644); err != nil {
		return err
	}
	data := filepath.Join(tmp, "data")

	// First start installs the pack; it is not what we time.
	sb, err := startStembox(stembox, data, filepath.Join(tmp, "content"))
	if err != nil {
		return err
	}
	sb.stop()

	// Cold start with the packs installed, and idle memory.
	start := time.Now()
	sb, err = startStembox(stembox, data, filepath.Join(tmp, "content"))
	if err != nil {
		return err
	}
	cold := time.Since(start)
	defer sb.stop()
	time.Sleep(2 * time.Second)
	rss := rssKB(sb.pid)

	lessonURL := sb.base + "/packs/" + pack + "/lessons/" + lesson
	page, err := fetch(lessonURL)
	if err != nil {
		return err
	}
	m := regexp.MustCompile(`/files/` + pack + `/([^/]+)/media/`).FindStringSubmatch(string(page))
	if m == nil {
		return fmt.Errorf("lesson page has no pack file URL")
	}
	mediaURL := sb.base + "/files/" + pack + "/" + m[1] + "/media/clip.mp4"
	if got, err := fetch(mediaURL); err != nil || len(got) != len(media) {
		return fmt.Errorf("media file: %d bytes, %v", len(got), err)
	}
	www := filepath.Join(tmp, "www")
	os.MkdirAll(www, 0o755)
	os.WriteFile(filepath.Join(www, "lesson.html"), page, 0o644)
	os.WriteFile(filepath.Join(www, "clip.mp4"), media, 0o644)

	targets := []target{{name: "stembox", lesson: lessonURL, media: mediaURL, stop: func() {}}}
	bare, err := startBare(www)
	if err != nil {
		return err
	}
	defer bare.stop()
	targets = append(targets, bare)
	if ng, err := startNginx(tmp, www); err == nil {
		defer ng.stop()
		targets = append(targets, ng)
	} else {
		fmt.Println("nginx: not measured:", err)
	}

	fmt.Printf("lesson page: %d bytes; media file: %d bytes; %d connections, %s per run, %d rounds, load by %s%s\n\n",
		len(page), len(media), conns, d, rounds, loaderName(), pinning.describe())
	// Each round measures every server one after the other, so a ratio
	// taken within a round compares runs seconds apart: the machine's
	// slower drifts (other work, a neighbour on the host) cancel out.
	rps := map[string]map[string][]float64{}   // server → kind → req/s per round
	ratio := map[string]map[string][]float64{} // server → kind → ratio to bare per round
	vsNginx := map[string]map[string][]float64{}
	for _, t := range targets {
		rps[t.name], ratio[t.name], vsNginx[t.name] = map[string][]float64{}, map[string][]float64{}, map[string][]float64{}
	}
	for r := 0; r < rounds; r++ {
		for _, kind := range []string{"lesson", "media"} {
			got := map[string]float64{}
			for _, t := range targets {
				url := t.lesson
				if kind == "media" {
					url = t.media
				}
				v, err := load(url, conns, d)
				if err != nil {
					return fmt.Errorf("%s %s: %w", t.name, kind, err)
				}
				got[t.name] = v
				rps[t.name][kind] = append(rps[t.name][kind], v)
			}
			for _, t := range targets {
				ratio[t.name][kind] = append(ratio[t.name][kind], got[t.name]/got["bare"])
				if n, ok := got["nginx"]; ok {
					vsNginx[t.name][kind] = append(vsNginx[t.name][kind], got[t.name]/n)
				}
			}
		}
	}
	fmt.Printf("%-10s %14s %14s %24s %24s\n", "server", "lesson req/s", "media req/s", "lesson vs bare", "media vs bare")
	for _, t := range targets {
		fmt.Printf("%-10s %14.0f %14.0f %24s %24s\n", t.name, median(rps[t.name]["lesson"]), median(rps[t.name]["media"]),
			spread(ratio[t.name]["lesson"]), spread(ratio[t.name]["media"]))
	}
	if len(vsNginx["stembox"]["lesson"]) > 0 {
		fmt.Printf("\nvs nginx: stembox lesson %s, media %s; bare lesson %s, media %s\n",
			spread(vsNginx["stembox"]["lesson"]), spread(vsNginx["stembox"]["media"]),
			spread(vsNginx["bare"]["lesson"]), spread(vsNginx["bare"]["media"]))
	}
	fmt.Printf("\nratios are the median of the rounds' ratios, (lowest–highest). stembox cold start (packs installed, to the first page): %s; idle RSS: %d KB\n", cold.Round(time.Millisecond), rss)
	return nil
}

// spread formats ratios as "median (lowest–highest)".
func spread(xs []float64) string {
	if len(xs) == 0 {
		return "-"
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return fmt.Sprintf("%.2f (%.2f–%.2f)", median(s), s[0], s[len(s)-1])
}

type process struct {
	base string
	pid  int
	stop func()
}

func freePort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "127.0.0.1:18080"
	}
	defer l.Close()
	return l.Addr().String()
}

func startProcess(cmd *exec.Cmd, base string) (process, error) {
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return process{}, err
	}
	p := process{base: base, pid: cmd.Process.Pid, stop: func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return p, nil
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.stop()
	return process{}, fmt.Errorf("%s did not start", strings.Join(cmd.Args, " "))
}

func startStembox(bin, data, content string) (process, error) {
	addr := freePort()
	cmd := command(pinning.servers, bin, "serve", "--addr", addr, "--data-dir", data, "--dev-packs", content, "--log-level", "warn", "--lang", "en")
	return startProcess(cmd, "http://"+addr)
}

func startBare(www string) (target, error) {
	addr := freePort()
	self, err := os.Executable()
	if err != nil {
		return target{}, err
	}
	p, err := startProcess(command(pinning.servers, self, "bare-serve", addr, filepath.Join(www, "lesson.html"), filepath.Join(www, "clip.mp4")), "http://"+addr)
	if err != nil {
		return target{}, err
	}
	return target{name: "bare", lesson: p.base + "/lesson", media: p.base + "/media", stop: p.stop}, nil
}

// bareServe is the reference: a net/http handler writing bytes from memory,
// with no headers beyond the content type.
func bareServe(addr, lessonFile, mediaFile string) {
	lesson, _ := os.ReadFile(lessonFile)
	media, _ := os.ReadFile(mediaFile)
	mux := http.NewServeMux()
	mux.HandleFunc("/lesson", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(lesson)
	})
	mux.HandleFunc("/media", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/mp4")
		w.Write(media)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Addr: addr, Handler: mux}
	go func() { <-ctx.Done(); srv.Close() }()
	srv.ListenAndServe()
}

func startNginx(tmp, www string) (target, error) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		return target{}, fmt.Errorf("not installed (apt-get install nginx)")
	}
	addr := freePort()
	conf := filepath.Join(tmp, "nginx.conf")
	os.MkdirAll(filepath.Join(tmp, "nginx"), 0o755)
	err = os.WriteFile(conf, []byte(fmt.Sprintf(`worker_processes auto;
pid %[1]s/nginx/nginx.pid;
error_log %[1]s/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path %[1]s/nginx;
  proxy_temp_path %[1]s/nginx;
  fastcgi_temp_path %[1]s/nginx;
  uwsgi_temp_path %[1]s/nginx;
  scgi_temp_path %[1]s/nginx;
  types { text/html html; video/mp4 mp4; }
  server { listen %[2]s; root %[3]s; }
}
`, tmp, addr, www)), 0o644)
	if err != nil {
		return target{}, err
	}
	p, err := startProcess(command(pinning.servers, bin, "-c", conf, "-g", "daemon off;"), "http://"+addr)
	if err != nil {
		return target{}, err
	}
	return target{name: "nginx", lesson: p.base + "/lesson.html", media: p.base + "/clip.mp4", stop: p.stop}, nil
}

func fetch(url string) ([]byte, error) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept-Language", "en")
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

func rssKB(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
