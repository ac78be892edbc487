// Command webcheck is the cluster self-test's whole container image: one static binary that is both
// a tiny HTTP server and an HTTP client, so a pod can be probed and can reach others without a shell.
//
//	webcheck serve [addr]   serve "/" (hostname) and "/healthz" on addr (default :8080)
//	webcheck get URL        GET URL, print the body; exit 1 on error or a non-2xx status
package main

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: webcheck serve [addr] | webcheck get URL")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		addr := ":8080"
		if len(os.Args) > 2 {
			addr = os.Args[2]
		}
		serve(addr)
	case "get":
		if len(os.Args) != 3 {
			fmt.Fprintln(os.Stderr, "usage: webcheck get URL")
			os.Exit(2)
		}
		if err := get(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "webcheck get:", err)
			os.Exit(1)
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown command", os.Args[1])
		os.Exit(2)
	}
}

func serve(addr string) {
	host, _ := os.Hostname()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		log.Printf("%s %s from %s", r.Method, r.URL.Path, r.RemoteAddr)
		fmt.Fprintf(w, "hello from %s\n", host)
	})
	log.Printf("webcheck listening on %s", addr)
	log.Fatal(http.ListenAndServe(addr, mux))
}

func get(url string) error {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return err
	}
	os.Stdout.Write(body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: status %s", url, resp.Status)
	}
	return nil
}
