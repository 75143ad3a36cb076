// Package sioredisprom exports the metrics of sioredis' Redis adapter to
// Prometheus. It is a module of its own, so that the library does not
// require client_golang: a program that wants neither Prometheus nor
// OpenTelemetry pulls neither.
//
//	metrics := sioredisprom.New(sioredisprom.Options{})
//	builder := redisadapter.New(rdb, redisadapter.WithObserver(metrics))
//	prometheus.MustRegister(metrics)
//	http.Handle("/metrics", promhttp.Handler())
//
// A Collector is a sioredis.Observer (events: messages and latencies, with
// namespace and kind labels) and a prometheus.Collector (at scrape time it
// also reads the builder's Stats: queue depths, subscriptions, reconnects,
// health). The metric names, units and labels are listed in the
// repository's README under "Monitoring".
//
// Namespace labels are bounded: dynamic namespaces (one per tenant, per
// user...) would otherwise create a series per namespace. By default the
// first 20 namespaces seen keep their name and every later one is labelled
// "other" (sioredis.BoundedNamespaces); Options.NamespaceLabel replaces the
// rule, e.g. to map "/tenant-123" to "/tenant".
package sioredisprom
