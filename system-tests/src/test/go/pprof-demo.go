// pprof-demo: a small Go service with net/http/pprof whose CPU time goes to functions of its own, so that a profile of
// it names them. The container tier builds it with Debian's golang-go and profiles it through the node agent.
package main

import (
	"crypto/sha256"
	"log"
	"net/http"
	_ "net/http/pprof"
)

//go:noinline
func churnHashes(rounds int) [32]byte {
	sum := sha256.Sum256([]byte("kube-diagnoser"))
	for i := 0; i < rounds; i++ {
		sum = sha256.Sum256(sum[:])
	}
	return sum
}

func burnCPU() {
	for {
		churnHashes(10000)
	}
}

func main() {
	go burnCPU()
	log.Fatal(http.ListenAndServe(":6060", nil))
}
