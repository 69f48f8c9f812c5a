//! The audit chain against the heads the router witnessed: a head the local chain no longer
//! reaches means the history was rewritten after it was sent.

use std::path::Path;

use ::sync::DeviceKeys;
use store::Store;

use super::{connection_of, keyring_entry, short, sync_error};
use crate::StationError;

/// Adds to a local audit check how the chain compares with every head the router
/// witnessed: a head the local chain no longer reaches means the history was rewritten
/// after it was sent; needs only the database (read-only will do) and the keyring.
pub(crate) async fn compare(
    store: &Store,
    keys: &DeviceKeys,
    data_dir: &Path,
    mut check: protocol::AuditCheck,
) -> Result<protocol::AuditCheck, StationError> {
    let Some(connection) = connection_of(store).await? else {
        return Ok(check);
    };
    let key = match keys.load(&keyring_entry(&connection.url, data_dir)).await {
        Ok(Some(key)) => key,
        Ok(None) => {
            check.witnessed =
                Some("not compared with the router: its device key is not in the keyring".into());
            return Ok(check);
        }
        Err(error) => {
            check.witnessed = Some(format!("not compared with the router: {error}"));
            return Ok(check);
        }
    };
    let client = ::sync::RouterClient::new(&connection.url, Some(key)).map_err(sync_error)?;
    let mut heads = Vec::new();
    loop {
        let page = match client.audit_heads(heads.len() as u64, 1000).await {
            Ok(page) => page,
            Err(error) => {
                check.witnessed = Some(format!(
                    "not compared with the router ({} heads read): {error}",
                    heads.len()
                ));
                return Ok(check);
            }
        };
        let full = page.len() == 1000;
        heads.extend(page);
        if !full {
            break;
        }
    }
    for witnessed in &heads {
        let head = &witnessed.head;
        if head.decisions == 0 {
            continue;
        }
        let local = store.decision_at(head.last_id).await?;
        let differs = match &local {
            Some((count, hash)) => *count != head.decisions || *hash != head.last_hash,
            None => true,
        };
        if differs {
            check.intact = false;
            check.broken_at.get_or_insert(head.last_id);
            let now = match local {
                Some((count, hash)) => format!("{count} decisions ending in {}", short(&hash)),
                None => "no such decision".into(),
            };
            let problem = format!(
                    "the history was rewritten after the router witnessed it on {}: it saw {} decisions ending at decision {} ({}), this station now has {now}",
                    witnessed.received_at,
                    head.decisions,
                    head.last_id,
                    short(&head.last_hash)
                );
            check.problem = Some(match check.problem.take() {
                Some(local) => format!("{local}; {problem}"),
                None => problem,
            });
            check.witnessed = Some(format!(
                "differs from a head the router witnessed ({} heads)",
                heads.len()
            ));
            return Ok(check);
        }
    }
    check.witnessed = Some(format!(
        "matches all {} heads the router witnessed at {}",
        heads.len(),
        connection.url
    ));
    Ok(check)
}
