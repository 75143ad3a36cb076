package redistest

// ExternalCluster lets tests drive a cluster as REDIS_CLUSTER_ADDRS would
// give it, without setting the variable (which parallel tests cannot do).
var ExternalCluster = externalCluster
