"""The Kubernetes deployment (deploy/kustomization.yaml, deploy/k8s/) runs the topology of docker-compose.yml.

No cluster is needed: the kustomization is rendered here in Python (its resources, namespace, images and
generators; the generated names' hash suffixes left out), every object is validated against the Kubernetes
JSON schema of its kind (kubernetes-validate, strict: an unknown or misspelt field fails), and the
essentials are checked: two replicas or more of each process running `cqp serve <process>` from the image
of deploy/Dockerfile, probed on /health/ready and /health/live at its port, given every setting compose
gives it, logging in to PostgreSQL and Kafka as itself with its own Secret, no secret value in a manifest,
Keycloak importing the checked-in realm, network policies letting only the gateway reach the services. When kubectl is installed, its own rendering must agree.
Why: nothing else runs these manifests before a cluster does, and a probe, a setting or a credential
gone missing would only show there.
"""

from __future__ import annotations

import base64
import copy
import importlib
import ipaddress
import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from shared.settings import Settings
from tools.cli import PROCESSES, ROOT

DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
KUSTOMIZATION = DEPLOY / "kustomization.yaml"
SECRETS_SCRIPT = K8S / "secrets.sh"
KUBERNETES_VERSION = "1.33"  # the schemas the manifests are validated against
CLUSTER_SCOPED = {"Namespace"}


# --- rendering ------------------------------------------------------------------------------------------

def kustomization() -> dict:
    return yaml.safe_load(KUSTOMIZATION.read_text())


def generated_secrets(directory: Path) -> Path:
    """deploy/k8s/secrets.sh run into a folder of the test: the env files of the secretGenerator."""
    subprocess.run(["bash", str(SECRETS_SCRIPT), str(directory)], check=True, capture_output=True)
    return directory


def env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def render(secrets: Path) -> list[dict]:
    """What `kubectl kustomize deploy` gives (without the hash suffixes), the Secrets' env files in `secrets`."""
    spec = kustomization()
    documents = []
    for resource in spec["resources"]:
        documents += [d for d in yaml.safe_load_all((DEPLOY / resource).read_text()) if d]
    for generator in spec.get("configMapGenerator", []):
        data = dict(literal.split("=", 1) for literal in generator.get("literals", []))
        data |= {Path(f).name: (DEPLOY / f).read_text() for f in generator.get("files", [])}
        documents.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]},
                          "data": data})
    for generator in spec.get("secretGenerator", []):
        data = {}
        for envs in generator["envs"]:
            assert envs.startswith("k8s/secrets/"), "the Secrets come from deploy/k8s/secrets/ (gitignored)"
            data |= env_file(secrets / Path(envs).name)
        documents.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                          "metadata": {"name": generator["name"]},
                          "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}})
    images = {image["name"]: image for image in spec.get("images", [])}
    for document in documents:
        if document["kind"] not in CLUSTER_SCOPED:
            document["metadata"]["namespace"] = spec["namespace"]
        for container in containers(document):
            name = container["image"].split(":")[0]
            if name in images:
                container["image"] = f"{images[name].get('newName', name)}:{images[name]['newTag']}"
    return documents


def pod_spec(document: dict) -> dict | None:
    if document["kind"] in ("Deployment", "StatefulSet", "Job"):
        return document["spec"]["template"]["spec"]
    return None


def containers(document: dict) -> list[dict]:
    spec = pod_spec(document)
    return spec["containers"] + spec.get("initContainers", []) if spec else []


@pytest.fixture(scope="module")
def secrets(tmp_path_factory) -> Path:
    return generated_secrets(tmp_path_factory.mktemp("secrets"))


@pytest.fixture(scope="module")
def manifests(secrets) -> list[dict]:
    return render(secrets)


def find(manifests: list[dict], kind: str, name: str) -> dict:
    found = [d for d in manifests if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"one {kind} {name} expected, found {len(found)}"
    return found[0]


def process_container(manifests, process: str) -> dict:
    (container,) = [c for c in containers(find(manifests, "Deployment", process)) if c["name"] == process]
    return container


def environment(manifests, container: dict) -> dict[str, object]:
    """The container's variables: a value, or ("secret", name, key) for a Secret's key."""
    variables: dict[str, object] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            variables |= find(manifests, "ConfigMap", source["configMapRef"]["name"])["data"]
        else:
            name = source["secretRef"]["name"]
            variables |= {key: ("secret", name, key) for key in find(manifests, "Secret", name)["data"]}
    names = [variable["name"] for variable in container.get("env", [])]
    assert len(names) == len(set(names)), f"{container['name']} sets a variable twice"
    for variable in container.get("env", []):
        if "value" in variable:
            variables[variable["name"]] = variable["value"]
        else:
            ref = variable["valueFrom"]["secretKeyRef"]
            variables[variable["name"]] = ("secret", ref["name"], ref["key"])
    return variables


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


# --- the files ------------------------------------------------------------------------------------------

def test_the_kustomization_lists_every_manifest_of_deploy_k8s_but_the_optional_ingress():
    listed = {DEPLOY / r for r in kustomization()["resources"]}
    assert listed == set(K8S.glob("*.yaml")) - {K8S / "ingress.yaml"}
    assert "# - k8s/ingress.yaml" in KUSTOMIZATION.read_text()


def test_every_manifest_validates_against_the_kubernetes_schema_of_its_kind(manifests):
    ingress = list(yaml.safe_load_all((K8S / "ingress.yaml").read_text()))
    errors = []
    for document in manifests + ingress:
        try:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            errors.append(f"{document['kind']} {document['metadata']['name']}: {error.message} at {list(error.path)}")
    assert not errors, "\n".join(errors)


def test_no_manifest_holds_a_secret_and_the_secrets_folder_is_ignored_by_git():
    for path in [KUSTOMIZATION, *K8S.glob("*.yaml")]:
        kinds = {d.get("kind") for d in yaml.safe_load_all(path.read_text()) if d}
        assert "Secret" not in kinds, f"{path.name} declares a Secret"
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "deploy/k8s/secrets/" in ignored


def test_the_manifests_name_no_network_address_but_loopback_and_no_machine_path():
    files = [KUSTOMIZATION, SECRETS_SCRIPT, K8S / "README.md", *K8S.glob("*.yaml")]
    for path in files:
        text = path.read_text()
        for candidate in re.findall(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])", text):
            address = ipaddress.ip_address(candidate)
            assert address.is_loopback or address.is_unspecified, f"{path.name} names {candidate}"
        assert not re.search(r"/(home|Users|work|root)/", text), f"{path.name} names a machine path"


# --- the four processes ---------------------------------------------------------------------------------

def test_each_process_runs_two_replicas_or_more_of_the_dockerfile_image_with_cqp_serve(manifests):
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["cqp"]' in dockerfile.splitlines()
    image = compose()["catalog"]["image"]
    for process in PROCESSES:
        deployment = find(manifests, "Deployment", process)
        assert deployment["spec"]["replicas"] >= 2, f"{process} runs one replica"
        container = process_container(manifests, process)
        assert container["image"] == image
        assert "command" not in container, "the image's entrypoint (cqp) must stay"
        assert container["args"] == ["serve", process]


def test_each_process_is_ready_on_health_ready_and_live_on_health_live_at_its_container_port(manifests):
    for process in PROCESSES:
        container = process_container(manifests, process)
        ports = {p.get("name"): p["containerPort"] for p in container["ports"]}
        listening = int(environment(manifests, container)["CQP_PORT"])
        for probe, path in (("readinessProbe", "/health/ready"), ("livenessProbe", "/health/live")):
            assert probe in container, f"{process} has no {probe}"
            get = container[probe]["httpGet"]
            assert get["path"] == path, f"{process}: {probe} on {get['path']}"
            port = ports.get(get["port"], get["port"])
            assert port == listening, f"{process}: {probe} on port {port}, the process listens on {listening}"
        if "startupProbe" in container:
            assert container["startupProbe"]["httpGet"]["path"] == "/health/live"


def test_each_process_is_given_what_compose_gives_it_and_only_settings_the_code_reads(manifests):
    known = {f"CQP_{name.upper()}" for name in Settings.model_fields}
    for process in PROCESSES:
        given = environment(manifests, process_container(manifests, process))
        wanted = {k for k in compose()[process]["environment"] if k.startswith("CQP_")} - {"CQP_CIPHER_KEY"}
        assert wanted <= set(given), f"{process} lacks {sorted(wanted - set(given))}"
        assert {k for k in given if k.startswith("CQP_")} <= known
        for variable in wanted:
            value = compose()[process]["environment"][variable]
            if "${" not in str(value):  # the same plain settings as compose (its secrets are checked below)
                assert given[variable] == value, f"{process}: {variable}"


def test_each_process_logs_in_to_postgres_and_kafka_as_itself_with_its_own_secret(manifests):
    for process in PROCESSES:
        given = environment(manifests, process_container(manifests, process))
        assert given["CQP_KAFKA_USERNAME"] == process
        assert given["CQP_KAFKA_PASSWORD"] == ("secret", process, "kafka-password")
        assert given["POSTGRES_ROLE_PASSWORD"] == ("secret", process, "postgres-password")
        assert given["CQP_POSTGRES_DSN"] == f"postgresql://cqp_{process}:$(POSTGRES_ROLE_PASSWORD)@postgres:5432/cqp"
        secrets = {v[1] for v in given.values() if isinstance(v, tuple)}
        assert secrets == {process}, f"{process} reads the Secrets {sorted(secrets)}"


def test_the_services_keeping_personal_data_get_their_own_cipher_key_and_no_other_does(manifests):
    for process in PROCESSES:
        definition = getattr(importlib.import_module(f"services.{process}.__main__"), "DEFINITION", None)
        given = environment(manifests, process_container(manifests, process))
        if getattr(definition, "encrypted", False) or getattr(definition, "personal_data", False):
            assert given.get("CQP_CIPHER_KEY") == ("secret", process, "cipher-key"), process
        else:
            assert "CQP_CIPHER_KEY" not in given, process


def test_the_gateway_replicas_share_one_cursor_key_from_their_secret(manifests):
    # A page's cursor is signed by the gateway that answered; the next page may be asked of another.
    given = environment(manifests, process_container(manifests, "gateway"))
    assert given.get("CQP_CURSOR_KEY") == ("secret", "gateway", "cursor-key")


def test_each_process_has_a_service_a_disruption_budget_limits_and_metrics_scraped(manifests):
    for process in PROCESSES:
        deployment = find(manifests, "Deployment", process)
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        service = find(manifests, "Service", process)
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
        assert service["spec"]["selector"].items() <= labels.items()
        assert service["spec"]["ports"][0]["port"] == 8000  # the port of CQP_*_URL
        budget = find(manifests, "PodDisruptionBudget", process)
        assert budget["spec"]["minAvailable"] == 1
        assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
        resources = process_container(manifests, process)["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]) and "memory" in resources["limits"]
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true" and annotations["prometheus.io/path"] == "/metrics"
        assert annotations["prometheus.io/port"] == str(environment(manifests, process_container(manifests, process))["CQP_PORT"])


def test_every_pod_runs_as_non_root_without_privilege_escalation_or_capabilities(manifests):
    writable_root = {"keycloak"}  # start-dev rebuilds its server under /opt/keycloak
    for document in manifests:
        spec = pod_spec(document)
        if not spec:
            continue
        assert spec["securityContext"]["runAsNonRoot"] is True, document["metadata"]["name"]
        assert spec["securityContext"]["runAsUser"] != 0
        for container in containers(document):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, container["name"]
            assert context["capabilities"]["drop"] == ["ALL"], container["name"]
            assert context["readOnlyRootFilesystem"] is (container["name"] not in writable_root), container["name"]


# --- infrastructure and set-up ---------------------------------------------------------------------------

def test_the_setup_jobs_run_cqp_database_and_cqp_topics_as_the_admins(manifests):
    database = find(manifests, "Job", "database")
    (container,) = containers(database)
    given = environment(manifests, container)
    assert container["args"] == ["database"] and "command" not in container
    assert given["CQP_POSTGRES_DSN"] == "postgresql://cqp:$(POSTGRES_ADMIN_PASSWORD)@postgres:5432/cqp"
    assert given["POSTGRES_ADMIN_PASSWORD"] == ("secret", "postgres", "admin-password")
    for process in PROCESSES:  # the roles' passwords: those the processes log in with
        assert given[f"CQP_POSTGRES_PASSWORD_{process.upper()}"] == ("secret", process, "postgres-password")
    (container,) = containers(find(manifests, "Job", "topics"))
    given = environment(manifests, container)
    assert container["args"] == ["topics"]
    assert given["CQP_KAFKA_USERNAME"] == "admin"
    assert given["CQP_KAFKA_PASSWORD"] == ("secret", "kafka", "admin-password")


def test_keycloak_imports_the_checked_in_realm_and_issues_the_tokens_the_processes_expect(manifests):
    deployment = find(manifests, "Deployment", "keycloak")
    (container,) = containers(deployment)
    assert container["image"] == compose()["keycloak"]["image"]
    assert "--import-realm" in container["args"]
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/opt/keycloak/data/import"]
    (volume,) = [v for v in pod_spec(deployment)["volumes"] if v["name"] == mount["name"]]
    realm = find(manifests, "ConfigMap", volume["configMap"]["name"])
    assert realm["data"] == {"cqp-realm.json": (DEPLOY / "keycloak" / "cqp-realm.json").read_text()}
    assert environment(manifests, container)["KC_HOSTNAME"] == "http://keycloak:8080"
    assert find(manifests, "ConfigMap", "platform")["data"]["CQP_OIDC_ISSUER"] == "http://keycloak:8080/realms/cqp"
    placeholders = set(re.findall(r"\$\{(\w+)\}", realm["data"]["cqp-realm.json"]))
    assert placeholders <= set(environment(manifests, container)), "a placeholder of the realm is not set"


def test_kafka_is_the_compose_broker_with_every_scram_user_and_a_persistent_volume(manifests):
    statefulset = find(manifests, "StatefulSet", "kafka")
    (container,) = containers(statefulset)
    assert container["image"] == compose()["kafka"]["image"]
    assert container["command"] == compose()["kafka"]["command"]
    script = find(manifests, "ConfigMap", "kafka-script")["data"]["compose.sh"]
    assert script == (DEPLOY / "kafka" / "compose.sh").read_text()
    given = environment(manifests, container)
    assert set(given) >= set(compose()["kafka"]["environment"])
    for process in PROCESSES:  # each user's password: the one its process logs in with
        assert given[f"CQP_KAFKA_PASSWORD_{process.upper()}"] == ("secret", process, "kafka-password")
    assert statefulset["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    assert {"name": "data", "mountPath": "/var/lib/kafka"} in container["volumeMounts"]
    service = find(manifests, "Service", "kafka")
    assert service["spec"]["publishNotReadyAddresses"] is True  # it reaches its own controller at kafka:9093
    assert {p["port"] for p in service["spec"]["ports"]} == {9092, 9093}


def test_postgres_asks_every_role_for_a_password_and_keeps_its_data_in_a_volume(manifests):
    statefulset = find(manifests, "StatefulSet", "postgres")
    (container,) = containers(statefulset)
    given = environment(manifests, container)
    for variable in ("POSTGRES_USER", "POSTGRES_DB", "POSTGRES_HOST_AUTH_METHOD", "POSTGRES_INITDB_ARGS"):
        assert given[variable] == compose()["postgres"]["environment"][variable]
    assert given["POSTGRES_PASSWORD"] == ("secret", "postgres", "admin-password")
    assert statefulset["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"


# --- network ----------------------------------------------------------------------------------------------

OUTSIDE = "outside"  # a pod of another namespace (the ingress controller, anyone in the cluster)


def pods(manifests) -> dict[str, dict]:
    """Every workload's pod: its labels and its named container ports."""
    found = {}
    for document in manifests:
        if pod_spec(document):
            ports = {p["name"]: p["containerPort"] for c in containers(document) for p in c.get("ports", []) if "name" in p}
            found[document["metadata"]["name"]] = {"labels": document["spec"]["template"]["metadata"]["labels"],
                                                   "ports": ports}
    return found


def selects(selector: dict, labels: dict) -> bool:
    assert set(selector) <= {"matchLabels"}, f"the check reads matchLabels only, not {sorted(selector)}"
    return selector.get("matchLabels", {}).items() <= labels.items()


def reaches(manifests, source: str, target: str, port: int) -> bool:
    """NetworkPolicy's rule, for ingress within the namespace: with no policy selecting the target pod
    anything may connect; otherwise only what one ingress rule of those policies lets in (peers and ports)."""
    everyone = pods(manifests)
    pod = everyone[target]
    policies = [d["spec"] for d in manifests if d["kind"] == "NetworkPolicy"
                and "Ingress" in d["spec"].get("policyTypes", ["Ingress"]) and selects(d["spec"]["podSelector"], pod["labels"])]
    if not policies:
        return True

    def peer(rule_peer: dict) -> bool:
        assert set(rule_peer) == {"podSelector"}, f"the check reads podSelector peers only, not {sorted(rule_peer)}"
        return source != OUTSIDE and selects(rule_peer["podSelector"], everyone[source]["labels"])

    for policy in policies:
        for rule in policy.get("ingress", []):
            peers = "from" not in rule or any(peer(p) for p in rule["from"])
            ports = "ports" not in rule or any(pod["ports"].get(p["port"], p["port"]) == port for p in rule["ports"])
            if peers and ports:
                return True
    return False


def test_nothing_reaches_a_pod_unless_a_policy_lets_it_and_only_the_gateway_reaches_the_services(manifests):
    (deny,) = [d for d in manifests if d["kind"] == "NetworkPolicy" and d["spec"]["podSelector"] == {}]
    assert deny["spec"]["policyTypes"] == ["Ingress"] and not deny["spec"].get("ingress")
    processes = set(PROCESSES)
    # Whom each pod's port takes connections from: the entry point, the services behind it, the infrastructure.
    expected = {
        ("gateway", 8000): {*pods(manifests), OUTSIDE},
        **{(service, 8000): {"gateway"} for service in processes - {"gateway"}},
        ("postgres", 5432): processes | {"database"},
        ("kafka", 9092): processes | {"topics", "kafka"},
        ("kafka", 9093): {"kafka"},
        ("keycloak", 8080): processes,
        ("keycloak", 9000): set(),  # its management port: the kubelet's probes only
        ("s3", 9000): processes,
        ("smtp", 1025): processes,
        ("smtp", 8025): set(),  # its web page: port-forward only
    }
    assert {target for target, _ in expected} == set(pods(manifests)) - {"database", "topics"}
    for (target, port), allowed in expected.items():
        assert port in pods(manifests)[target]["ports"].values(), f"{target} has no port {port}"
        for source in [*pods(manifests), OUTSIDE]:
            assert reaches(manifests, source, target, port) is (source in allowed), \
                f"{source} {'cannot reach' if source in allowed else 'reaches'} {target}:{port}"
    for job in ("database", "topics"):  # a Job listens on no port
        assert not pods(manifests)[job]["ports"]


# --- secrets ---------------------------------------------------------------------------------------------

def test_the_secrets_script_writes_private_env_files_and_keeps_those_that_exist(tmp_path):
    generated_secrets(tmp_path)
    names = {Path(g["envs"][0]).name for g in kustomization()["secretGenerator"]}
    assert {p.name for p in tmp_path.iterdir()} == names
    for path in tmp_path.iterdir():
        assert path.stat().st_mode & 0o077 == 0, f"{path.name} is readable by others"
        assert all(env_file(path).values())
    before = {p.name: p.read_text() for p in tmp_path.iterdir()}
    generated_secrets(tmp_path)
    assert before == {p.name: p.read_text() for p in tmp_path.iterdir()}
    assert len(base64.b64decode(env_file(tmp_path / "candidacy.env")["cipher-key"])) == 32


def test_no_secret_value_appears_in_a_manifest_but_the_secrets(manifests, secrets):
    values = [v for path in secrets.iterdir() for v in env_file(path).values()]
    assert len(values) == len(set(values)), "two credentials share a value"
    for document in manifests:
        if document["kind"] == "Secret":
            continue
        text = yaml.safe_dump(document)
        for value in values:
            assert value not in text, f"a secret value is in {document['kind']} {document['metadata']['name']}"
    for document in manifests:  # a credential is always read from a Secret, never written in a manifest
        for container in containers(document):
            for name, value in environment(manifests, container).items():
                if re.search(r"PASSWORD|SECRET|CIPHER_KEY", name):
                    assert isinstance(value, tuple), f"{container['name']}: {name} is not from a Secret"
                elif "DSN" in name:
                    assert re.match(r"postgresql://\w+:\$\(\w+\)@", value), f"{container['name']}: {name}"
    referenced = set()
    for document in manifests:
        for container in containers(document):
            referenced |= {v[1:] for v in environment(manifests, container).values() if isinstance(v, tuple)}
    for document in manifests:  # and every key a pod reads exists
        if document["kind"] == "Secret":
            referenced -= {(document["metadata"]["name"], key) for key in document["data"]}
    assert not referenced, f"keys read but not in any Secret: {sorted(referenced)}"


# --- kubectl ---------------------------------------------------------------------------------------------

@pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl is not installed")
def test_kubectl_kustomize_renders_what_these_tests_check(tmp_path, manifests, secrets):
    copy_ = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copy_, ignore=shutil.ignore_patterns("secrets"))
    shutil.copytree(secrets, copy_ / "k8s" / "secrets")
    out = subprocess.run(["kubectl", "kustomize", str(copy_)], check=True, capture_output=True, text=True).stdout
    rendered = [d for d in yaml.safe_load_all(out) if d]
    generated = {g["name"] for g in kustomization()["configMapGenerator"] + kustomization()["secretGenerator"]}
    suffix = re.compile(r"^(?P<name>.+)-[a-z0-9]{10}$")

    def unhashed(value):
        if isinstance(value, dict):
            return {k: unhashed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [unhashed(v) for v in value]
        if isinstance(value, str) and (match := suffix.match(value)) and match["name"] in generated:
            return match["name"]
        return value

    key = lambda d: (d["kind"], d["metadata"]["name"])  # noqa: E731
    assert sorted(map(unhashed, rendered), key=key) == sorted(map(copy.deepcopy, manifests), key=key)


def test_each_service_reads_its_own_key_of_the_idempotency_digests(manifests):
    for process in PROCESSES:
        given = environment(manifests, process_container(manifests, process))
        expected = None if process == "gateway" else ("secret", process, "command-key")
        assert given.get("CQP_COMMAND_KEY") == expected, process


def test_the_object_store_gives_each_process_its_own_key_and_bucket_from_its_secret(manifests):
    statefulset = find(manifests, "StatefulSet", "s3")
    (container,) = containers(statefulset)
    assert container["image"] == compose()["s3"]["image"]
    given = environment(manifests, container)
    assert given["CQP_S3_SECRET_KEY_ADMIN"] == ("secret", "s3", "admin-secret-key")
    assert find(manifests, "ConfigMap", "platform")["data"]["CQP_S3_ENDPOINT"] == "http://s3:9000"
    for process in PROCESSES:  # each user's key: the one its process signs with
        assert given[f"CQP_S3_SECRET_KEY_{process.upper()}"] == ("secret", process, "s3-secret-key")
        own = environment(manifests, process_container(manifests, process))
        assert own["CQP_S3_SECRET_KEY"] == ("secret", process, "s3-secret-key")
        assert own["CQP_S3_ACCESS_KEY"] == own["CQP_S3_BUCKET"] == f"cqp-{process}"
    assert statefulset["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"


def test_the_smtp_server_is_the_compose_file_s_mailpit_keeping_one_message_per_message_id(manifests):
    deployment = find(manifests, "Deployment", "smtp")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == compose()["smtp"]["image"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["MP_IGNORE_DUPLICATE_IDS"] == "true"
    # One login per process that sends, each read from that process's Secret.
    assert env["MP_SMTP_AUTH"] == "candidacy:$(CANDIDACY_SMTP_PASSWORD) jury:$(JURY_SMTP_PASSWORD)"
    for process in ("candidacy", "jury"):
        given = environment(manifests, process_container(manifests, process))
        assert (given["CQP_SMTP_USER"], given["CQP_SMTP_PASSWORD"]) == (process, ("secret", process, "smtp-password"))
    assert find(manifests, "ConfigMap", "platform")["data"]["CQP_SMTP_HOST"] == "smtp"
