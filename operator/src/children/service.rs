//! The Service in front of the nodes and the nodes' ServiceAccount.

use k8s_openapi::api::core::v1::{Service, ServiceAccount, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{ADMIN_PORT, API_PORT, Owner, names};

/// `http://<name>.<namespace>.svc:8080` for the API, 9090 for Prometheus.
pub fn service(owner: &Owner) -> Service {
    let port = |name: &str, port: i32, target: &str| ServicePort {
        name: Some(name.into()),
        port,
        target_port: Some(IntOrString::String(target.into())),
        protocol: Some("TCP".into()),
        ..ServicePort::default()
    };
    Service {
        metadata: owner.meta(names::nodes(&owner.name)),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(owner.selector()),
            ports: Some(vec![
                port("api", API_PORT, "api"),
                port("metrics", ADMIN_PORT, "admin"),
            ]),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

/// The nodes need no Kubernetes API access, so no token is mounted.
pub fn service_account(owner: &Owner) -> ServiceAccount {
    ServiceAccount {
        metadata: owner.meta(names::service_account(&owner.name)),
        automount_service_account_token: Some(false),
        ..ServiceAccount::default()
    }
}
