#!/usr/bin/env bash
# The broker of docker-compose.yml, in the apache/kafka image: the same security as deploy/kafka/kafka.sh
# (SASL/SCRAM-SHA-512 for clients, PLAIN for the controller listener, the standard KRaft authorizer
# denying whatever no ACL allows). The SCRAM users are written when the storage is formatted, with the
# passwords of the environment (CQP_KAFKA_PASSWORD_<USER>, from the .env file beside
# docker-compose.yml, never committed). The ACLs come from the `topics` job (`cqp topics`).
set -euo pipefail
data=/var/lib/kafka/data
config=/tmp/server.properties
users=(admin broker catalog candidacy jury gateway)
password() { local name="CQP_KAFKA_PASSWORD_${1^^}"; printf %s "${!name:?$name is not set}"; }
for user in "${users[@]}"; do password "$user" >/dev/null; done

(umask 077; cat >"$config" <<PROPERTIES
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@kafka:9093
controller.listener.names=CONTROLLER
listeners=SASL_PLAINTEXT://:9092,CONTROLLER://:9093
advertised.listeners=SASL_PLAINTEXT://kafka:9092
inter.broker.listener.name=SASL_PLAINTEXT
listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
listener.name.sasl_plaintext.sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="$(password broker)";
listener.name.controller.sasl.enabled.mechanisms=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="$(password broker)" user_broker="$(password broker)";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin;User:broker
log.dirs=$data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.ms=-1
PROPERTIES
# The admin's client settings, for the health check.
cat >/tmp/admin.properties <<PROPERTIES
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(password admin)";
PROPERTIES
)

if [ ! -f "$data/meta.properties" ]; then
  scram=()
  for user in "${users[@]}"; do scram+=(--add-scram "SCRAM-SHA-512=[name=$user,password=$(password "$user")]"); done
  /opt/kafka/bin/kafka-storage.sh format -t 'q1Lm5bTnR9yZkR0p3fXc2A' -c "$config" "${scram[@]}" >/dev/null
fi
exec /opt/kafka/bin/kafka-server-start.sh "$config"
