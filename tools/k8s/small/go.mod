module flashsale.local/tools/k8s/small

go 1.22
