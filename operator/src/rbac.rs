//! The Kubernetes permissions the operator uses, in one table: the chart's RBAC must grant
//! exactly these (tests/python/test_rbac.py compares them), docs/operator.md lists them, and
//! `stripe-operator rbac` prints them as a ClusterRole and a leader-election Role.

use serde_json::{Value, json};

/// Where a rule is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every watched namespace (cluster-wide, or a Role in each of `WATCH_NAMESPACES`).
    Watched,
    /// Only the operator's own namespace (the leader Lease).
    OperatorNamespace,
}

/// One permission: API group, resource and the verbs of the calls made on it.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub api_group: &'static str,
    pub resource: &'static str,
    pub verbs: &'static [&'static str],
    pub scope: Scope,
    /// The calls that need these verbs (for docs and reviews).
    pub why: &'static str,
}

/// Children: watched (list, watch), read before writing (get), created by server-side apply
/// (patch, authorized as create when the object is new).
const CHILD_VERBS: &[&str] = &["get", "list", "watch", "create", "patch"];

pub const RULES: &[Rule] = &[
    Rule {
        api_group: "connectors.integration.dev",
        resource: "stripeconnections",
        verbs: &["list", "watch"],
        scope: Scope::Watched,
        why: "the controller's watch (controller.rs); reconcile reads from its cache",
    },
    Rule {
        api_group: "connectors.integration.dev",
        resource: "stripeconnections/status",
        verbs: &["patch"],
        scope: Scope::Watched,
        why: "patch_status (reconcile.rs)",
    },
    Rule {
        api_group: "",
        resource: "secrets",
        verbs: CHILD_VERBS,
        scope: Scope::Watched,
        why: "watch of referenced Secrets, get of the API key, create of the client token, apply of the Redis password",
    },
    Rule {
        api_group: "",
        resource: "configmaps",
        verbs: CHILD_VERBS,
        scope: Scope::Watched,
        why: "owned child: watch, get, server-side apply",
    },
    Rule {
        api_group: "",
        resource: "services",
        verbs: CHILD_VERBS,
        scope: Scope::Watched,
        why: "owned child: watch, get, server-side apply",
    },
    Rule {
        api_group: "",
        resource: "serviceaccounts",
        verbs: CHILD_VERBS,
        scope: Scope::Watched,
        why: "owned child: watch, get, server-side apply",
    },
    Rule {
        api_group: "apps",
        resource: "deployments",
        verbs: CHILD_VERBS,
        scope: Scope::Watched,
        why: "owned child: watch, get, create (initial replicas), server-side apply",
    },
    Rule {
        api_group: "autoscaling",
        resource: "horizontalpodautoscalers",
        verbs: CHILD_VERBS,
        scope: Scope::Watched,
        why: "owned child: watch, get, server-side apply",
    },
    Rule {
        api_group: "policy",
        resource: "poddisruptionbudgets",
        verbs: CHILD_VERBS,
        scope: Scope::Watched,
        why: "owned child: watch, get, server-side apply",
    },
    Rule {
        api_group: "events.k8s.io",
        resource: "events",
        verbs: &["create", "patch"],
        scope: Scope::Watched,
        why: "kube-runtime's event Recorder (create, then patch for repeats)",
    },
    Rule {
        api_group: "coordination.k8s.io",
        resource: "leases",
        verbs: &["get", "create", "patch"],
        scope: Scope::OperatorNamespace,
        why: "kube-lease-manager: get, create when absent, patch to renew and release",
    },
];

/// The rules of one scope in Kubernetes' `rules` shape.
pub fn rules(scope: Scope) -> Vec<Value> {
    RULES
        .iter()
        .filter(|r| r.scope == scope)
        .map(|r| {
            json!({
                "apiGroups": [r.api_group],
                "resources": [r.resource],
                "verbs": r.verbs,
            })
        })
        .collect()
}

/// A ClusterRole with the watched-namespace rules and a Role with the Lease rule.
pub fn manifests(name: &str, namespace: &str) -> Vec<Value> {
    vec![
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": name},
            "rules": rules(Scope::Watched),
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": format!("{name}-leader-election"), "namespace": namespace},
            "rules": rules(Scope::OperatorNamespace),
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_resource_is_listed_once_without_wildcards() {
        let mut seen = std::collections::HashSet::new();
        for r in RULES {
            assert!(
                seen.insert((r.api_group, r.resource)),
                "{} twice",
                r.resource
            );
            assert!(!r.verbs.is_empty() && !r.verbs.contains(&"*"));
            assert!(
                !r.verbs.contains(&"delete"),
                "children go by owner references"
            );
        }
    }

    #[test]
    fn manifests_split_by_scope() {
        let docs = manifests("op", "ops");
        assert_eq!(
            docs[0]["rules"].as_array().map(Vec::len),
            Some(RULES.len() - 1)
        );
        assert_eq!(docs[1]["rules"][0]["resources"][0], "leases");
        assert_eq!(docs[1]["metadata"]["namespace"], "ops");
    }
}
