#!/usr/bin/env bash
# Create every topic of the Groeipakket engine on an Apache Kafka cluster (one-shot job of docker-compose.yml).
#
# The list mirrors streams/topics.py (all_topics / compacted_topics); tests/test_deploy.py checks that it does,
# through DRY_RUN=1, which prints one line per topic ("<name> <partitions> <config,...>") and touches nothing.
# Faust creates its own changelog topics (<app>-persons-changelog, <app>-households-changelog) and its leader
# topic with the replication factor of the workers' settings; the brokers refuse auto-creation.
#
# Idempotent: existing topics are kept; a topic whose partition count differs from the expected one fails the job
# (the engine co-partitions source, internal and changelog topics: they must all have GROEIPAKKET_PARTITIONS).
#
# Environment (defaults in brackets):
#   KAFKA_BOOTSTRAP                  brokers [kafka-1:19092,kafka-2:19092,kafka-3:19092]
#   GROEIPAKKET_APP_ID               app id, prefix of the internal topics [groeipakket]
#   GROEIPAKKET_PARTITIONS           partitions of every keyed topic [12]
#   GROEIPAKKET_REPLICATION_FACTOR   replicas per partition [3]
#   TOPIC_MIN_INSYNC_REPLICAS        min.insync.replicas of every topic [2]
#   RETENTION_SOURCES_MS             src.* [7776000000 = 90 days]
#   RETENTION_PAYMENTS_MS            payments.<payer> [7776000000 = 90 days]
#   RETENTION_DLQ_MS                 dlq [7776000000 = 90 days]
#   RETENTION_INTERNAL_MS            <app>-person-events, <app>-household-events [604800000 = 7 days]
#   KAFKA_BIN                        directory of kafka-topics.sh [/opt/kafka/bin]
#   KAFKA_CLIENT_CONFIG              optional --command-config file (TLS/SASL client properties, see SECURITY.md)
#   DRY_RUN                          1: print the plan only
set -euo pipefail

BOOTSTRAP=${KAFKA_BOOTSTRAP:-kafka-1:19092,kafka-2:19092,kafka-3:19092}
APP_ID=${GROEIPAKKET_APP_ID:-groeipakket}
PARTITIONS=${GROEIPAKKET_PARTITIONS:-12}
REPLICATION=${GROEIPAKKET_REPLICATION_FACTOR:-3}
MIN_ISR=${TOPIC_MIN_INSYNC_REPLICAS:-2}
RETENTION_SOURCES_MS=${RETENTION_SOURCES_MS:-7776000000}
RETENTION_PAYMENTS_MS=${RETENTION_PAYMENTS_MS:-7776000000}
RETENTION_DLQ_MS=${RETENTION_DLQ_MS:-7776000000}
RETENTION_INTERNAL_MS=${RETENTION_INTERNAL_MS:-604800000}
KAFKA_BIN=${KAFKA_BIN:-/opt/kafka/bin}
DRY_RUN=${DRY_RUN:-0}

SOURCES="care childcare education payer population property tax"   # streams/events.py TOPIC_OF_TYPE
PAYERS="fons infino kidslife myfamily parentia"                      # streams/events.py PAYERS, lower case

# name partitions config (comma-separated key=value)
plan() {
  local delete="cleanup.policy=delete,min.insync.replicas=${MIN_ISR}"
  local name
  for name in $SOURCES; do
    echo "src.${name} ${PARTITIONS} ${delete},retention.ms=${RETENTION_SOURCES_MS}"
  done
  for name in $PAYERS; do
    echo "payments.${name} ${PARTITIONS} ${delete},retention.ms=${RETENTION_PAYMENTS_MS}"
  done
  echo "control.periods 1 ${delete},retention.ms=-1"
  echo "dlq ${PARTITIONS} ${delete},retention.ms=${RETENTION_DLQ_MS}"
  echo "${APP_ID}-person-events ${PARTITIONS} ${delete},retention.ms=${RETENTION_INTERNAL_MS}"
  echo "${APP_ID}-household-events ${PARTITIONS} ${delete},retention.ms=${RETENTION_INTERNAL_MS}"
  # The audit trail: keyed by trace id, compacted, never deleted by time.
  echo "${APP_ID}-audit ${PARTITIONS} cleanup.policy=compact,min.insync.replicas=${MIN_ISR}"
}

if [[ "$DRY_RUN" == "1" ]]; then
  plan
  exit 0
fi

client_config=()
if [[ -n "${KAFKA_CLIENT_CONFIG:-}" ]]; then
  client_config=(--command-config "$KAFKA_CLIENT_CONFIG")
fi

topics() {
  "$KAFKA_BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" "${client_config[@]}" "$@"
}

# The brokers are healthy before this job starts (depends_on), but the controller may still be electing.
for attempt in $(seq 1 30); do
  if topics --list >/dev/null 2>&1; then
    break
  fi
  if [[ "$attempt" == 30 ]]; then
    echo "create-topics: cluster at $BOOTSTRAP not reachable" >&2
    exit 1
  fi
  sleep 2
done

while read -r name partitions config; do
  args=()
  IFS=',' read -r -a pairs <<<"$config"
  for pair in "${pairs[@]}"; do
    args+=(--config "$pair")
  done
  topics --create --if-not-exists --topic "$name" --partitions "$partitions" \
    --replication-factor "$REPLICATION" "${args[@]}"
done < <(plan)

# Verify partition counts (an existing topic keeps its own; the engine refuses a mismatch at start as well).
described=$(topics --describe --exclude-internal)
failed=0
while read -r name partitions _; do
  actual=$(awk -v t="$name" '$1 == "Topic:" && $2 == t { for (i = 1; i <= NF; i++) if ($i == "PartitionCount:") print $(i + 1) }' \
    <<<"$described" | head -n 1)
  if [[ "$actual" != "$partitions" ]]; then
    echo "create-topics: $name has ${actual:-no} partitions, expected $partitions" >&2
    failed=1
  fi
done < <(plan)
if [[ "$failed" != 0 ]]; then
  exit 1
fi
echo "create-topics: $(plan | wc -l) topics ready on $BOOTSTRAP (partitions $PARTITIONS, replication $REPLICATION)"
