// Command etcd is the etcd server, built from its published module (go.etcd.io/etcd/server/v3)
// because Debian's etcd 3.4 slows watches badly for a Kubernetes 1.34 apiserver.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
