//! The HorizontalPodAutoscaler (scales on offered load) and the PodDisruptionBudget.

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HPAScalingPolicy, HPAScalingRules, HorizontalPodAutoscaler,
    HorizontalPodAutoscalerBehavior, HorizontalPodAutoscalerSpec, MetricIdentifier, MetricSpec,
    MetricTarget, PodsMetricSource, ResourceMetricSource,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{Owner, names};
use crate::validate::ValidConnection;

/// The per-node gauge the node exports: admitted plus throttled requests per second.
pub const OFFERED_LOAD_METRIC: &str = "stripe_connector_offered_requests_per_second";
/// CPU target of the fallback metric, in percent of the request.
const CPU_TARGET_PERCENT: i32 = 70;

/// Scales on the load offered per node with a target of the connection's TPS per node: when
/// callers are throttled the average exceeds the target and the fleet grows; when they offer
/// less, it shrinks. CPU is a second metric for clusters without a custom metrics adapter.
pub fn horizontal_pod_autoscaler(owner: &Owner, conn: &ValidConnection) -> HorizontalPodAutoscaler {
    let policy = |type_: &str, value: i32, period_seconds: i32| HPAScalingPolicy {
        type_: type_.into(),
        value,
        period_seconds,
    };
    HorizontalPodAutoscaler {
        metadata: owner.meta(names::nodes(&owner.name)),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: names::nodes(&owner.name),
            },
            min_replicas: Some(conn.min_nodes),
            max_replicas: conn.max_nodes,
            metrics: Some(vec![
                MetricSpec {
                    type_: "Pods".into(),
                    pods: Some(PodsMetricSource {
                        metric: MetricIdentifier {
                            name: OFFERED_LOAD_METRIC.into(),
                            selector: None,
                        },
                        target: MetricTarget {
                            type_: "AverageValue".into(),
                            average_value: Some(Quantity(
                                conn.transactions_per_second_per_node.to_string(),
                            )),
                            ..MetricTarget::default()
                        },
                    }),
                    ..MetricSpec::default()
                },
                MetricSpec {
                    type_: "Resource".into(),
                    resource: Some(ResourceMetricSource {
                        name: "cpu".into(),
                        target: MetricTarget {
                            type_: "Utilization".into(),
                            average_utilization: Some(CPU_TARGET_PERCENT),
                            ..MetricTarget::default()
                        },
                    }),
                    ..MetricSpec::default()
                },
            ]),
            // Grow fast when throttled (at most doubling, or +4 nodes, per minute after 30 s of
            // sustained demand); shrink slowly (half per minute, after
            // spec.nodes.scaleDownStabilizationSeconds of lower load).
            behavior: Some(HorizontalPodAutoscalerBehavior {
                scale_up: Some(HPAScalingRules {
                    stabilization_window_seconds: Some(30),
                    select_policy: Some("Max".into()),
                    policies: Some(vec![policy("Percent", 100, 60), policy("Pods", 4, 60)]),
                    ..HPAScalingRules::default()
                }),
                scale_down: Some(HPAScalingRules {
                    stabilization_window_seconds: Some(conn.scale_down_stabilization_seconds),
                    select_policy: Some("Min".into()),
                    policies: Some(vec![policy("Percent", 50, 60)]),
                    ..HPAScalingRules::default()
                }),
            }),
        }),
        status: None,
    }
}

/// Voluntary evictions (drains, upgrades) take one node at a time.
pub fn pod_disruption_budget(owner: &Owner) -> PodDisruptionBudget {
    PodDisruptionBudget {
        metadata: owner.meta(names::nodes(&owner.name)),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(LabelSelector {
                match_labels: Some(owner.selector()),
                ..LabelSelector::default()
            }),
            ..PodDisruptionBudgetSpec::default()
        }),
        status: None,
    }
}
