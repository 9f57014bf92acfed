"""What an operator watches: Prometheus metrics at /metrics and readiness at /readyz."""
