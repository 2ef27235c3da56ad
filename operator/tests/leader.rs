//! Leader election wiring against the in-memory API: one replica takes the Lease, a second one
//! waits while it is held, and a release frees it.

mod fake_api;

use std::time::Duration;

use fake_api::FakeApi;
use stripe_operator::leader::Leadership;

const LEASE: &str = "/apis/coordination.k8s.io/v1/namespaces/ops/leases/stripe-operator";

#[tokio::test]
async fn one_replica_leads_the_other_waits_until_release() {
    let api = FakeApi::default();
    let first = campaign(&api, "replica-a", std::future::pending())
        .await
        .expect("first replica leads");
    assert!(first.is_leader());
    let lease = api.get(LEASE).expect("Lease created");
    assert_eq!(lease["spec"]["holderIdentity"], "replica-a");

    // A second replica gives up when told to stop: the Lease is valid for 15 s and renewed.
    let second = campaign(
        &api,
        "replica-b",
        tokio::time::sleep(Duration::from_millis(500)),
    )
    .await;
    assert!(second.is_none(), "two leaders at once");
    assert_eq!(
        api.get(LEASE).expect("Lease")["spec"]["holderIdentity"],
        "replica-a"
    );

    first.release().await;
    let holder = api.get(LEASE).expect("Lease")["spec"]["holderIdentity"].clone();
    assert_ne!(holder, "replica-a", "the Lease was not released");

    // Once released, the standby takes over (the bound only keeps a broken run from hanging).
    let successor = campaign(
        &api,
        "replica-b",
        tokio::time::sleep(Duration::from_secs(30)),
    )
    .await
    .expect("standby leads after the release");
    assert_eq!(
        api.get(LEASE).expect("Lease")["spec"]["holderIdentity"],
        "replica-b"
    );
    successor.release().await;
}

/// Campaigns for the operator's Lease in namespace `ops` as `identity` until `give_up` ends.
async fn campaign(
    api: &FakeApi,
    identity: &str,
    give_up: impl std::future::Future<Output = ()>,
) -> Option<Leadership> {
    Leadership::acquire(api.client(), "ops", "stripe-operator", identity, give_up)
        .await
        .expect("campaign works")
}
