//! Leader election with a coordination.k8s.io Lease, through the kube-lease-manager crate (it
//! renews the Lease with server-side apply and tolerates clock skew; no need to hand-write that).

use kube::Client;
use kube_lease_manager::{LeaseManager, LeaseManagerBuilder};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::info;

use crate::children::FIELD_MANAGER;

/// Seconds a Lease is valid without renewal, and the grace before another replica takes it.
const LEASE_SECONDS: u64 = 15;
const GRACE_SECONDS: u64 = 5;

/// This replica holds the Lease.
pub struct Leadership {
    leader: watch::Receiver<bool>,
    task: JoinHandle<kube_lease_manager::Result<LeaseManager>>,
}

impl Leadership {
    /// Campaigns for the Lease `namespace/name` as `identity`; `None` if `stop` completes first.
    pub async fn acquire(
        client: Client,
        namespace: &str,
        name: &str,
        identity: &str,
        stop: impl Future<Output = ()>,
    ) -> anyhow::Result<Option<Self>> {
        let manager = LeaseManagerBuilder::new(client, name)
            .with_namespace(namespace)
            .with_identity(identity)
            .with_field_manager(FIELD_MANAGER)
            .with_duration(LEASE_SECONDS)
            .with_grace(GRACE_SECONDS)
            .build()
            .await?;
        let (mut leader, task) = manager.watch().await;
        info!(lease = %name, %identity, "waiting for the leader lease");
        let acquired = tokio::select! {
            result = leader.wait_for(|l| *l) => { result?; true }
            () = stop => false,
        };
        if !acquired {
            drop(leader);
            let _ = task.await;
            return Ok(None);
        }
        info!(lease = %name, %identity, "leader lease acquired");
        Ok(Some(Self { leader, task }))
    }

    /// Completes when the Lease is lost (another replica took it, or renewal failed for longer
    /// than its duration).
    pub fn lost(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut leader = self.leader.clone();
        async move {
            let _ = leader.wait_for(|l| !*l).await;
        }
    }

    pub fn is_leader(&self) -> bool {
        *self.leader.borrow()
    }

    /// Gives the Lease up (so a standby takes over at once) and waits for that to finish.
    pub async fn release(self) {
        // Dropping the last receiver makes the lease task release the Lease and end.
        let Self { leader, task } = self;
        drop(leader);
        let _ = task.await;
    }
}
