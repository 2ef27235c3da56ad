//! The Deployment of connector nodes. Its replica count is left to the HPA: the builder never
//! sets `spec.replicas`. A new Deployment gets the API server's default of 1, and the HPA raises
//! it to `nodes.min` at its next sync (it does so below its minimum without any metric).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapEnvSource, ConfigMapVolumeSource, Container, ContainerPort,
    EmptyDirVolumeSource, EnvFromSource, EnvVar, EnvVarSource, HTTPGetAction, KeyToPath,
    ObjectFieldSelector, PodSecurityContext, PodSpec, PodTemplateSpec, Probe, ResourceRequirements,
    SeccompProfile, SecretVolumeSource, SecurityContext, TopologySpreadConstraint, Volume,
    VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{
    ADMIN_PORT, API_PORT, CA_BUNDLE_DIR, CONFIG_HASH_ANNOTATION, MOUNT_ROOT, Owner, Settings,
    config_hash, names, node_env,
};
use crate::crd::CaBundleKind;
use crate::dereference::Dereferenced;
use crate::validate::ValidConnection;

/// Non-root user of the node image (distroless "nonroot").
const NODE_UID: i64 = 65532;

pub fn deployment(
    owner: &Owner,
    conn: &ValidConnection,
    settings: &Settings,
    found: &Dereferenced,
) -> Deployment {
    let selector = owner.selector();
    let annotations = BTreeMap::from([
        (
            CONFIG_HASH_ANNOTATION.to_string(),
            config_hash(&node_env(conn, settings), found),
        ),
        ("prometheus.io/scrape".to_string(), "true".to_string()),
        ("prometheus.io/port".to_string(), ADMIN_PORT.to_string()),
    ]);
    let (volumes, mounts) = volumes(owner, conn, settings);
    Deployment {
        metadata: owner.meta(names::nodes(&owner.name)),
        spec: Some(DeploymentSpec {
            replicas: None,
            selector: LabelSelector {
                match_labels: Some(selector.clone()),
                ..LabelSelector::default()
            },
            // Never drop below the current capacity during a rollout.
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_unavailable: Some(IntOrString::Int(0)),
                    max_surge: Some(IntOrString::String("25%".into())),
                }),
            }),
            revision_history_limit: Some(3),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(owner.labels()),
                    annotations: Some(annotations),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    service_account_name: Some(names::service_account(&owner.name)),
                    automount_service_account_token: Some(false),
                    enable_service_links: Some(false),
                    termination_grace_period_seconds: Some(30),
                    security_context: Some(PodSecurityContext {
                        run_as_non_root: Some(true),
                        run_as_user: Some(NODE_UID),
                        run_as_group: Some(NODE_UID),
                        fs_group: Some(NODE_UID),
                        seccomp_profile: Some(runtime_default_seccomp()),
                        ..PodSecurityContext::default()
                    }),
                    topology_spread_constraints: Some(
                        ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
                            .into_iter()
                            .map(|key| TopologySpreadConstraint {
                                max_skew: 1,
                                topology_key: key.into(),
                                when_unsatisfiable: "ScheduleAnyway".into(),
                                label_selector: Some(LabelSelector {
                                    match_labels: Some(selector.clone()),
                                    ..LabelSelector::default()
                                }),
                                match_label_keys: Some(vec!["pod-template-hash".into()]),
                                ..TopologySpreadConstraint::default()
                            })
                            .collect(),
                    ),
                    containers: vec![node_container(owner, settings, mounts)],
                    volumes: Some(volumes),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        status: None,
    }
}

fn node_container(owner: &Owner, settings: &Settings, mounts: Vec<VolumeMount>) -> Container {
    let probe = |path: &str, period: i32, failures: i32| Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::String("admin".into()),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(period),
        failure_threshold: Some(failures),
        timeout_seconds: Some(2),
        ..Probe::default()
    };
    Container {
        name: "node".into(),
        image: Some(settings.node_image.clone()),
        env_from: Some(vec![EnvFromSource {
            config_map_ref: Some(ConfigMapEnvSource {
                name: names::config_map(&owner.name),
                optional: Some(false),
            }),
            ..EnvFromSource::default()
        }]),
        // The pod's name is the node's id in the shared limiter.
        env: Some(vec![EnvVar {
            name: "NODE_ID".into(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    field_path: "metadata.name".into(),
                    ..ObjectFieldSelector::default()
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        }]),
        ports: Some(vec![
            ContainerPort {
                name: Some("api".into()),
                container_port: API_PORT,
                protocol: Some("TCP".into()),
                ..ContainerPort::default()
            },
            ContainerPort {
                name: Some("admin".into()),
                container_port: ADMIN_PORT,
                protocol: Some("TCP".into()),
                ..ContainerPort::default()
            },
        ]),
        readiness_probe: Some(probe("/readyz", 5, 3)),
        liveness_probe: Some(probe("/healthz", 10, 3)),
        // Requests make the CPU metric of the HPA meaningful.
        resources: Some(ResourceRequirements {
            requests: Some(BTreeMap::from([
                ("cpu".into(), Quantity("100m".into())),
                ("memory".into(), Quantity("64Mi".into())),
            ])),
            limits: Some(BTreeMap::from([(
                "memory".into(),
                Quantity("256Mi".into()),
            )])),
            ..ResourceRequirements::default()
        }),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".into()]),
                ..Capabilities::default()
            }),
            seccomp_profile: Some(runtime_default_seccomp()),
            ..SecurityContext::default()
        }),
        volume_mounts: Some(mounts),
        ..Container::default()
    }
}

/// The pod's volumes and the node container's mounts of them, built side by side.
#[derive(Default)]
struct Volumes {
    volumes: Vec<Volume>,
    mounts: Vec<VolumeMount>,
}

impl Volumes {
    /// A Secret volume named `name` with `keys`, mounted read-only at `MOUNT_ROOT/name`.
    fn secret(&mut self, name: &str, secret_name: String, keys: &[&str]) {
        self.secret_at(name, name, secret_name, keys);
    }

    /// A Secret volume with `keys`, mounted read-only at `MOUNT_ROOT/dir`.
    fn secret_at(&mut self, volume: &str, dir: &str, secret_name: String, keys: &[&str]) {
        self.volumes.push(Volume {
            name: volume.into(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(secret_name),
                items: Some(
                    keys.iter()
                        .map(|key| KeyToPath {
                            key: key.to_string(),
                            path: key.to_string(),
                            ..KeyToPath::default()
                        })
                        .collect(),
                ),
                default_mode: Some(0o440),
                ..SecretVolumeSource::default()
            }),
            ..Volume::default()
        });
        self.mounts.push(VolumeMount {
            name: volume.into(),
            mount_path: format!("{MOUNT_ROOT}/{dir}"),
            read_only: Some(true),
            ..VolumeMount::default()
        });
    }
}

fn runtime_default_seccomp() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".into(),
        ..SeccompProfile::default()
    }
}

/// Secret volumes and the CA bundle (each mounted read-only under [`MOUNT_ROOT`]) plus a
/// writable /tmp.
fn volumes(
    owner: &Owner,
    conn: &ValidConnection,
    settings: &Settings,
) -> (Vec<Volume>, Vec<VolumeMount>) {
    let mut v = Volumes::default();
    v.secret("api-key", conn.api_key.name.clone(), &[&conn.api_key.key]);
    let default = stripe_node::access::DEFAULT_CLIENT;
    match &conn.clients {
        None => v.secret("client-token", names::client_token(&owner.name), &["token"]),
        Some(clients) => {
            for client in clients {
                let secret_name = names::client_token_of(&owner.name, &client.name);
                if client.name == default {
                    v.secret("client-token", secret_name, &["token"]);
                } else {
                    // The volume name is a DNS label: 7 + at most 32 characters.
                    let volume = format!("client-{}", client.name);
                    let dir = format!("clients/{}", client.name);
                    v.secret_at(&volume, &dir, secret_name, &["token"]);
                }
            }
        }
    }
    if let Some(cert) = &conn.server_cert {
        v.secret("server-tls", cert.clone(), &["tls.crt", "tls.key"]);
    }
    if let Some(password) = conn.proxy_password() {
        v.secret("proxy-password", password.name.clone(), &[&password.key]);
    }
    if settings.redis_password.is_some() {
        v.secret(
            "redis-password",
            names::redis_password(&owner.name),
            &["password"],
        );
    }
    let ca_bundle = conn.ca_bundle.as_ref();
    if let Some(ca) = ca_bundle
        && ca.kind == CaBundleKind::Secret
    {
        v.secret("ca-bundle", ca.name.clone(), &[&ca.key]);
    }
    let Volumes {
        mut volumes,
        mut mounts,
    } = v;
    if let Some(ca) = ca_bundle
        && ca.kind == CaBundleKind::ConfigMap
    {
        volumes.push(Volume {
            name: "ca-bundle".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: ca.name.clone(),
                items: Some(vec![KeyToPath {
                    key: ca.key.clone(),
                    path: ca.key.clone(),
                    ..KeyToPath::default()
                }]),
                default_mode: Some(0o444),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        });
        mounts.push(VolumeMount {
            name: "ca-bundle".into(),
            mount_path: CA_BUNDLE_DIR.into(),
            read_only: Some(true),
            ..VolumeMount::default()
        });
    }
    volumes.push(Volume {
        name: "tmp".into(),
        empty_dir: Some(EmptyDirVolumeSource {
            size_limit: Some(Quantity("16Mi".into())),
            ..EmptyDirVolumeSource::default()
        }),
        ..Volume::default()
    });
    mounts.push(VolumeMount {
        name: "tmp".into(),
        mount_path: "/tmp".into(),
        ..VolumeMount::default()
    });
    (volumes, mounts)
}
