//! The status a connection should have, computed purely from what the reconcile observed.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::ResourceExt;

use crate::children::endpoint;
use crate::crd::{NodeCounts, StripeConnection, StripeConnectionStatus};
use crate::validate::SpecProblem;

pub const READY: &str = "Ready";
pub const PROGRESSING: &str = "Progressing";
pub const DEGRADED: &str = "Degraded";

/// What the reconcile found.
#[derive(Debug)]
pub enum Observation<'a> {
    /// The spec has problems; nothing was built.
    InvalidSpec(&'a [SpecProblem]),
    /// A Secret the spec references is missing (message names the Secret and key, never a value).
    SecretNotFound(String),
    /// The CA bundle ConfigMap or Secret (or its key) is missing; the message names it.
    CaBundleNotFound(String),
    /// The API server refused a child (message from the API server, naming the object).
    ApplyFailed(String),
    /// The children are applied; this is the node Deployment as the API server returned it.
    Nodes(&'a Deployment),
}

/// One condition before timestamps: (type, status, reason, message).
type Cond = (&'static str, bool, String, String);

/// The status `conn` should have given `observation`; conditions whose status is unchanged keep
/// their lastTransitionTime, so an unchanged world gives an equal status (and no write).
pub fn desired_status(
    conn: &StripeConnection,
    observation: &Observation,
    now: &Time,
) -> StripeConnectionStatus {
    let old = conn.status.clone().unwrap_or_default();
    let tps = i64::from(conn.spec.rate_limit.transactions_per_second_per_node);
    let (nodes, conditions): (NodeCounts, [Cond; 3]) = match observation {
        Observation::InvalidSpec(problems) => {
            let message = format!(
                "invalid spec: {}",
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            (old.nodes.clone(), stopped("InvalidSpec", message))
        }
        Observation::SecretNotFound(message) => (
            old.nodes.clone(),
            stopped("SecretNotFound", message.clone()),
        ),
        Observation::CaBundleNotFound(message) => (
            old.nodes.clone(),
            stopped("CaBundleNotFound", message.clone()),
        ),
        Observation::ApplyFailed(message) => {
            // The fleet may still serve from its last good state: Ready stays as it was.
            let ready = old
                .conditions
                .iter()
                .find(|c| c.type_ == READY)
                .map(|c| {
                    (
                        READY,
                        c.status == "True",
                        c.reason.clone(),
                        c.message.clone(),
                    )
                })
                .unwrap_or((READY, false, "ApplyFailed".into(), message.clone()));
            let [_, progressing, degraded] = stopped("ApplyFailed", message.clone());
            (old.nodes.clone(), [ready, progressing, degraded])
        }
        Observation::Nodes(deployment) => node_conditions(conn, deployment),
    };
    let capacity_tps = match observation {
        Observation::Nodes(_) => tps * i64::from(nodes.ready),
        _ => old.capacity_tps,
    };
    StripeConnectionStatus {
        observed_generation: conn.metadata.generation,
        conditions: conditions
            .into_iter()
            .map(|c| condition(&old.conditions, c, conn.metadata.generation, now))
            .collect(),
        nodes,
        endpoint: conn.namespace().map(|ns| {
            let https = conn
                .spec
                .tls
                .as_ref()
                .is_some_and(|t| t.server_cert_secret_ref.is_some());
            endpoint(&conn.name_any(), &ns, https)
        }),
        capacity_tps,
    }
}

/// Conditions when the operator cannot run nodes for `reason`.
fn stopped(reason: &str, message: String) -> [Cond; 3] {
    [
        (READY, false, reason.into(), message.clone()),
        (PROGRESSING, false, reason.into(), message.clone()),
        (DEGRADED, true, reason.into(), message),
    ]
}

fn node_conditions(conn: &StripeConnection, deployment: &Deployment) -> (NodeCounts, [Cond; 3]) {
    let min = conn.spec.nodes.min;
    let status = deployment.status.clone().unwrap_or_default();
    let desired = deployment
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(min);
    let ready = status.ready_replicas.unwrap_or(0);
    let updated = status.updated_replicas.unwrap_or(0);
    let generation_seen = status.observed_generation >= deployment.metadata.generation;
    let deployment_condition = |type_: &str| {
        status
            .conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == type_)
            .cloned()
    };
    let progressing = deployment_condition("Progressing");
    let stuck = progressing
        .as_ref()
        .is_some_and(|c| c.reason.as_deref() == Some("ProgressDeadlineExceeded"));
    // Below the minimum the HPA has yet to scale up (a new Deployment starts at 1 replica): the
    // fleet is still starting, not broken.
    let rolled_out = generation_seen
        && desired >= min
        && updated >= desired
        && progressing
            .as_ref()
            .is_none_or(|c| c.reason.as_deref() == Some("NewReplicaSetAvailable"));

    let counts = format!("{ready} of {desired} nodes ready (minimum {min})");
    let ready_cond = if ready >= min {
        (READY, true, "NodesReady".into(), counts.clone())
    } else if rolled_out || stuck {
        (READY, false, "NodesUnavailable".into(), counts.clone())
    } else {
        (READY, false, "NodesStarting".into(), counts.clone())
    };
    let progressing_cond = if stuck {
        (PROGRESSING, false, "RolloutStuck".into(), counts.clone())
    } else if rolled_out {
        (PROGRESSING, false, "RolloutComplete".into(), counts.clone())
    } else {
        (PROGRESSING, true, "RollingOut".into(), counts.clone())
    };
    let degraded_cond = if stuck {
        (DEGRADED, true, "RolloutStuck".into(), counts)
    } else if ready < min && rolled_out {
        (DEGRADED, true, "NodesUnavailable".into(), counts)
    } else {
        (DEGRADED, false, "AsExpected".into(), counts)
    };
    (
        NodeCounts { desired, ready },
        [ready_cond, progressing_cond, degraded_cond],
    )
}

fn condition(
    old: &[Condition],
    (type_, status, reason, message): Cond,
    generation: Option<i64>,
    now: &Time,
) -> Condition {
    let status = if status { "True" } else { "False" }.to_string();
    let last_transition_time = old
        .iter()
        .find(|c| c.type_ == type_ && c.status == status)
        .map_or_else(|| now.clone(), |c| c.last_transition_time.clone());
    Condition {
        type_: type_.into(),
        status,
        reason,
        message,
        observed_generation: generation,
        last_transition_time,
    }
}

/// A Kubernetes Event worth recording for a status change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub warning: bool,
    pub reason: String,
    pub note: String,
}

/// The event for going from `old` to `new`, if the Ready condition changed status or reason.
pub fn transition(
    old: Option<&StripeConnectionStatus>,
    new: &StripeConnectionStatus,
) -> Option<Transition> {
    let ready = |s: &StripeConnectionStatus| {
        s.conditions
            .iter()
            .find(|c| c.type_ == READY)
            .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
    };
    let before = old.and_then(ready);
    let (status, reason, message) = ready(new)?;
    if before
        .as_ref()
        .is_some_and(|(s, r, _)| *s == status && *r == reason)
    {
        return None;
    }
    Some(Transition {
        warning: status != "True" && reason != "NodesStarting",
        reason,
        note: message,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn conn() -> StripeConnection {
        serde_json::from_value(json!({
            "apiVersion": "connectors.integration.dev/v1", "kind": "StripeConnection",
            "metadata": {"name": "c", "namespace": "ns", "generation": 4},
            "spec": {"auth": {"apiKeySecretRef": {"name": "k", "key": "v"}},
                     "nodes": {"min": 2, "max": 5}},
        }))
        .expect("parses")
    }

    fn deployment(replicas: i32, ready: i32, reason: &str) -> Deployment {
        serde_json::from_value(json!({
            "metadata": {"generation": 1}, "spec": {"replicas": replicas, "selector": {},
                "template": {}},
            "status": {"observedGeneration": 1, "updatedReplicas": replicas,
                       "readyReplicas": ready,
                       "conditions": [{"type": "Progressing", "status": "True", "reason": reason}]},
        }))
        .expect("parses")
    }

    /// The status of `conn()` whose Deployment wants `replicas` and has `ready` of them ready.
    fn status_with_nodes(replicas: i32, ready: i32, reason: &str) -> StripeConnectionStatus {
        let nodes = deployment(replicas, ready, reason);
        desired_status(&conn(), &Observation::Nodes(&nodes), &now())
    }

    fn now() -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(1_800_000_000).expect("time"))
    }

    fn summary(s: &StripeConnectionStatus) -> Vec<(String, String, String)> {
        s.conditions
            .iter()
            .map(|c| (c.type_.clone(), c.status.clone(), c.reason.clone()))
            .collect()
    }

    fn c(t: &str, s: &str, r: &str) -> (String, String, String) {
        (t.into(), s.into(), r.into())
    }

    #[test]
    fn ready_fleet() {
        let s = status_with_nodes(3, 3, "NewReplicaSetAvailable");
        assert_eq!(
            summary(&s),
            [
                c(READY, "True", "NodesReady"),
                c(PROGRESSING, "False", "RolloutComplete"),
                c(DEGRADED, "False", "AsExpected")
            ]
        );
        assert_eq!(
            s.nodes,
            NodeCounts {
                desired: 3,
                ready: 3
            }
        );
        assert_eq!(s.capacity_tps, 18);
        assert_eq!(s.observed_generation, Some(4));
        assert_eq!(s.endpoint.as_deref(), Some("http://c.ns.svc:8080"));
        assert!(
            s.conditions
                .iter()
                .all(|c| c.observed_generation == Some(4))
        );
    }

    #[test]
    fn starting_stuck_and_lost_nodes() {
        // Rolling out, none ready yet.
        let s = status_with_nodes(2, 0, "ReplicaSetUpdated");
        assert_eq!(summary(&s)[0], c(READY, "False", "NodesStarting"));
        assert_eq!(summary(&s)[2], c(DEGRADED, "False", "AsExpected"));

        // The rollout passed its progress deadline.
        let s = status_with_nodes(2, 0, "ProgressDeadlineExceeded");
        assert_eq!(summary(&s)[1], c(PROGRESSING, "False", "RolloutStuck"));
        assert_eq!(summary(&s)[2], c(DEGRADED, "True", "RolloutStuck"));

        // A new Deployment has the default replica until the HPA raises it to the minimum.
        let s = status_with_nodes(1, 1, "NewReplicaSetAvailable");
        assert_eq!(summary(&s)[0], c(READY, "False", "NodesStarting"));
        assert_eq!(summary(&s)[1], c(PROGRESSING, "True", "RollingOut"));
        assert_eq!(summary(&s)[2], c(DEGRADED, "False", "AsExpected"));

        // Rolled out, then a node was lost.
        let s = status_with_nodes(2, 1, "NewReplicaSetAvailable");
        assert_eq!(summary(&s)[0], c(READY, "False", "NodesUnavailable"));
        assert_eq!(summary(&s)[2], c(DEGRADED, "True", "NodesUnavailable"));
        assert_eq!(s.capacity_tps, 6);
    }

    #[test]
    fn unchanged_conditions_keep_their_transition_time() {
        let d = deployment(2, 2, "NewReplicaSetAvailable");
        let mut conn = conn();
        conn.status = Some(desired_status(&conn, &Observation::Nodes(&d), &now()));
        let later = Time(k8s_openapi::jiff::Timestamp::from_second(1_900_000_000).expect("time"));
        let again = desired_status(&conn, &Observation::Nodes(&d), &later);
        assert_eq!(Some(&again), conn.status.as_ref());
        assert_eq!(transition(conn.status.as_ref(), &again), None);

        let lost = deployment(2, 0, "NewReplicaSetAvailable");
        let after = desired_status(&conn, &Observation::Nodes(&lost), &later);
        assert_eq!(after.conditions[0].last_transition_time, later);
        let event = transition(conn.status.as_ref(), &after).expect("an event");
        assert!(event.warning);
        assert_eq!(event.reason, "NodesUnavailable");
    }

    #[test]
    fn secret_and_spec_problems_stop_the_connection() {
        let s = desired_status(
            &conn(),
            &Observation::SecretNotFound("Secret \"k\" not found".into()),
            &now(),
        );
        assert_eq!(
            summary(&s),
            [
                c(READY, "False", "SecretNotFound"),
                c(PROGRESSING, "False", "SecretNotFound"),
                c(DEGRADED, "True", "SecretNotFound")
            ]
        );
        let problems = [SpecProblem {
            field: "spec.nodes".into(),
            reason: "bad".into(),
        }];
        let s = desired_status(&conn(), &Observation::InvalidSpec(&problems), &now());
        assert_eq!(s.conditions[2].reason, "InvalidSpec");
        assert_eq!(s.conditions[2].message, "invalid spec: spec.nodes: bad");
    }

    #[test]
    fn a_refused_apply_degrades_but_keeps_ready() {
        let d = deployment(2, 2, "NewReplicaSetAvailable");
        let mut conn = conn();
        conn.status = Some(desired_status(&conn, &Observation::Nodes(&d), &now()));
        let s = desired_status(&conn, &Observation::ApplyFailed("refused".into()), &now());
        assert_eq!(
            summary(&s),
            [
                c(READY, "True", "NodesReady"),
                c(PROGRESSING, "False", "ApplyFailed"),
                c(DEGRADED, "True", "ApplyFailed")
            ]
        );
        assert_eq!(s.capacity_tps, 12);
    }
}
