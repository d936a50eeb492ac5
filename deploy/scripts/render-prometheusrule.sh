#!/usr/bin/env sh
# Prints deploy/prometheus/alerts.yml wrapped in a prometheus-operator PrometheusRule, so that the
# operator's Prometheus loads the same recording and alerting rules as docker-compose.yml's.
#   deploy/scripts/render-prometheusrule.sh [NAMESPACE] [LABEL=VALUE ...] | kubectl apply -f -
# e.g. deploy/scripts/render-prometheusrule.sh tpserve release=kube-prometheus-stack
# (the labels your Prometheus's ruleSelector matches).
set -eu
here=$(dirname "$0")
namespace=${1:-tpserve}
[ $# -gt 0 ] && shift
cat <<HEADER
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: tpserve
  namespace: ${namespace}
  labels:
    app.kubernetes.io/name: tpserve
HEADER
for pair in "$@"; do
  printf '    %s: "%s"\n' "${pair%%=*}" "${pair#*=}"
done
echo "spec:"
sed -e 's/^\(.\)/  \1/' "${here}/../prometheus/alerts.yml"
