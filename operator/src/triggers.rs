//! Which changes of owned children wake the controller.
//!
//! An HPA rewrites its status at every sync (current metrics), and a PodDisruptionBudget on every
//! pod health change; neither status feeds the connection's status (that comes from the
//! Deployment). Left to `Controller::owns`, each such write costs a reconcile of ~10 reads.
//! kube's `predicate_filter` with `predicates::generation` would drop them, but it also drops
//! deletions (a delete need not change generation), and a deleted child must come back at once.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use futures::{Stream, StreamExt, future};
use kube::Resource;
use kube::runtime::watcher::{self, Event};

/// The objects of `events` whose generation, labels or annotations changed since last seen,
/// and every deleted one. After a relist (`Init`) each object passes once more.
pub fn spec_changes<K>(
    events: impl Stream<Item = Result<Event<K>, watcher::Error>>,
) -> impl Stream<Item = Result<K, watcher::Error>>
where
    K: Resource,
{
    let mut seen: HashMap<String, u64> = HashMap::new();
    events.filter_map(move |event| {
        let passed = match event {
            Err(error) => Some(Err(error)),
            Ok(Event::Init) => {
                seen.clear();
                None
            }
            Ok(Event::InitDone) => None,
            Ok(Event::Delete(object)) => {
                seen.remove(&identity(&object));
                Some(Ok(object))
            }
            Ok(Event::Apply(object) | Event::InitApply(object)) => {
                let fingerprint = desired_state(&object);
                let unchanged = seen.insert(identity(&object), fingerprint) == Some(fingerprint);
                (!unchanged).then_some(Ok(object))
            }
        };
        future::ready(passed)
    })
}

fn identity<K: Resource>(object: &K) -> String {
    let meta = object.meta();
    meta.uid.clone().unwrap_or_else(|| {
        format!(
            "{}/{}",
            meta.namespace.as_deref().unwrap_or_default(),
            meta.name.as_deref().unwrap_or_default()
        )
    })
}

/// A hash of what the operator sets on a child: its spec (by generation) and metadata.
fn desired_state<K: Resource>(object: &K) -> u64 {
    let meta = object.meta();
    let mut hasher = DefaultHasher::new();
    meta.generation.hash(&mut hasher);
    meta.labels.hash(&mut hasher);
    meta.annotations.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;
    use k8s_openapi::api::autoscaling::v2::{
        HorizontalPodAutoscaler, HorizontalPodAutoscalerStatus,
    };
    use kube::api::ObjectMeta;

    fn hpa(uid: &str, generation: i64, current_replicas: i32) -> HorizontalPodAutoscaler {
        HorizontalPodAutoscaler {
            metadata: ObjectMeta {
                name: Some(format!("hpa-{uid}")),
                namespace: Some("shop".into()),
                uid: Some(uid.into()),
                generation: Some(generation),
                ..Default::default()
            },
            status: Some(HorizontalPodAutoscalerStatus {
                current_replicas: Some(current_replicas),
                desired_replicas: current_replicas,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn passed(events: Vec<Event<HorizontalPodAutoscaler>>) -> Vec<(String, i64, i32)> {
        let stream = spec_changes(stream::iter(events.into_iter().map(Ok)));
        futures::executor::block_on(stream.collect::<Vec<_>>())
            .into_iter()
            .map(|r| {
                let h = r.unwrap();
                let replicas = h.status.and_then(|s| s.current_replicas).unwrap_or(0);
                (
                    h.metadata.uid.unwrap(),
                    h.metadata.generation.unwrap(),
                    replicas,
                )
            })
            .collect()
    }

    #[test]
    fn status_only_writes_are_dropped() {
        assert_eq!(
            passed(vec![
                Event::Apply(hpa("a", 1, 2)),
                Event::Apply(hpa("a", 1, 3)),
                Event::Apply(hpa("a", 1, 4)),
            ]),
            [("a".into(), 1, 2)]
        );
    }

    #[test]
    fn spec_and_label_changes_pass() {
        let mut labelled = hpa("a", 2, 2);
        labelled.metadata.labels = Some([("team".to_string(), "x".to_string())].into());
        assert_eq!(
            passed(vec![
                Event::Apply(hpa("a", 1, 2)),
                Event::Apply(hpa("a", 2, 2)),
                Event::Apply(labelled),
            ]),
            [("a".into(), 1, 2), ("a".into(), 2, 2), ("a".into(), 2, 2)]
        );
    }

    #[test]
    fn a_deletion_always_passes_even_with_an_unchanged_generation() {
        assert_eq!(
            passed(vec![
                Event::Apply(hpa("a", 1, 2)),
                Event::Delete(hpa("a", 1, 2)),
            ]),
            [("a".into(), 1, 2), ("a".into(), 1, 2)]
        );
    }

    #[test]
    fn after_a_relist_every_object_passes_once_more() {
        assert_eq!(
            passed(vec![
                Event::Apply(hpa("a", 1, 2)),
                Event::Init,
                Event::InitApply(hpa("a", 1, 2)),
                Event::InitApply(hpa("b", 1, 2)),
                Event::InitDone,
                Event::Apply(hpa("b", 1, 5)),
            ]),
            [("a".into(), 1, 2), ("a".into(), 1, 2), ("b".into(), 1, 2)]
        );
    }
}
