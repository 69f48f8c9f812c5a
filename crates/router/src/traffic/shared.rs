//! The traffic state replicas must share, kept in Redis: admission buckets per client key,
//! the rpm / rps10 counters, each backend's in-flight slots and its out-of-rotation flag and
//! errors of the day. Every operation is one atomic Lua script on Redis's own clock (`TIME`),
//! so replicas whose clocks differ still agree, and no read-modify-write crosses a round trip.
//!
//! In-flight slots are a sorted set per backend: member = the holder's id, score = when the slot
//! lapses. A holder renews its slot while its call runs; a replica killed mid-call stops
//! renewing and its slots come back within `slot_ttl` — the platform's "TTL protection against
//! slots left by dead workers".

use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::Script;

use super::counters::Rates;
use super::health::OutReason;

/// Redis answered with an error or not at all.
#[derive(Debug, thiserror::Error)]
#[error("redis: {0}")]
pub struct SharedError(#[from] redis::RedisError);

/// Lua: now in microseconds on the server's clock (exact in a double until the year 2255).
const NOW_US: &str =
    "local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n";

/// Shared state on one Redis; cheap to clone (one multiplexed connection, made on first use and
/// reconnected on loss: a router started before its Redis refuses requests until it answers).
#[derive(Clone)]
pub struct SharedTraffic {
    client: redis::Client,
    connection: std::sync::Arc<tokio::sync::OnceCell<ConnectionManager>>,
    /// Namespaces every key, so routers of two deployments can share one Redis.
    prefix: String,
    slot_ttl: Duration,
    scripts: std::sync::Arc<Scripts>,
    /// Requests sent to Redis by this process (each operation is one: a script or a pipeline).
    round_trips: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for SharedTraffic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedTraffic")
            .field("prefix", &self.prefix)
            .field("slot_ttl", &self.slot_ttl)
            .finish_non_exhaustive()
    }
}

struct Scripts {
    mark: Script,
    admit: Script,
    count: Script,
    acquire: Script,
    renew: Script,
    holders: Script,
    take_out: Script,
    out_for: Script,
}

impl Scripts {
    fn new() -> Self {
        let script = |body: &str| Script::new(&format!("{NOW_US}{body}"));
        Self {
            // KEYS[1] an idempotency key's mark; ARGV: body hash, ttl ms. nil = marked for this
            // caller; else the hash of the live request holding it.
            mark: Script::new(
                "local held = redis.call('GET', KEYS[1])
                 if held then return held end
                 redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
                 return false",
            ),
            // GCRA (the algorithm governor runs in process): KEYS[1] holds the theoretical
            // arrival time; ARGV: emission interval µs, burst. Returns -1 (admitted) or the
            // wait in µs.
            admit: script(
                "local interval = tonumber(ARGV[1]); local burst = tonumber(ARGV[2])
                 local tat = tonumber(redis.call('GET', KEYS[1]) or now)
                 if tat < now then tat = now end
                 local allow_at = tat - (burst - 1) * interval
                 if now < allow_at then return math.ceil(allow_at - now) end
                 local next = tat + interval
                 redis.call('SET', KEYS[1], string.format('%.0f', next), 'PX', math.ceil((next - now) / 1000) + 1000)
                 return -1",
            ),
            // one hash of per-second counts; ARGV[1] = 1 counts a request now. KEYS[2], KEYS[3]:
            // two backends' rotation flags, read in the same trip. Returns {rpm, rps10, µs left,
            // reason, µs left, reason} (0 and '' for a backend in rotation or not asked about).
            count: script(
                "local second = math.floor(now / 1000000)
                 if ARGV[1] == '1' then
                   redis.call('HINCRBY', KEYS[1], second, 1)
                   redis.call('EXPIRE', KEYS[1], 120)
                   if redis.call('HLEN', KEYS[1]) > 90 then
                     for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
                       if tonumber(field) <= second - 60 then redis.call('HDEL', KEYS[1], field) end
                     end
                   end
                 end
                 local fields = {}
                 for i = 0, 59 do fields[#fields + 1] = second - i end
                 local counts = redis.call('HMGET', KEYS[1], unpack(fields))
                 local rpm, rps10 = 0, 0
                 for i, count in ipairs(counts) do
                   if count then
                     rpm = rpm + tonumber(count)
                     if i <= 10 then rps10 = rps10 + tonumber(count) end
                   end
                 end
                 local reply = {rpm, rps10}
                 for k = 2, 3 do
                   local flag = KEYS[k] and redis.call('HMGET', KEYS[k], 'until', 'reason') or {}
                   if flag[1] and tonumber(flag[1]) > now then
                     reply[#reply + 1] = math.ceil(tonumber(flag[1]) - now)
                     reply[#reply + 1] = flag[2]
                   else
                     reply[#reply + 1] = 0
                     reply[#reply + 1] = ''
                   end
                 end
                 return reply",
            ),
            // KEYS[1] the backend's holders; ARGV: cap, holder, ttl µs. 1 = the slot is held.
            acquire: script(
                "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
                 local cap = tonumber(ARGV[1])
                 if redis.call('ZSCORE', KEYS[1], ARGV[2]) or redis.call('ZCARD', KEYS[1]) < cap then
                   redis.call('ZADD', KEYS[1], string.format('%.0f', now + tonumber(ARGV[3])), ARGV[2])
                   redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3]) / 1000) * 2)
                   return 1
                 end
                 return 0",
            ),
            // ARGV: holder, ttl µs. 1 = renewed; 0 = the slot had lapsed (and is not taken back:
            // the cap may be full of others by now).
            renew: script(
                "local lapses = redis.call('ZSCORE', KEYS[1], ARGV[1])
                 if not lapses or tonumber(lapses) <= now then
                   redis.call('ZREM', KEYS[1], ARGV[1])
                   return 0
                 end
                 redis.call('ZADD', KEYS[1], 'XX', string.format('%.0f', now + tonumber(ARGV[2])), ARGV[1])
                 redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) / 1000) * 2)
                 return 1",
            ),
            holders: script(
                "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
                 return redis.call('ZCARD', KEYS[1])",
            ),
            // KEYS[1] the backend's flag; ARGV: for µs, reason. Keeps the later of two ends.
            // Returns the µs until it is back.
            take_out: script(
                "local ends = now + tonumber(ARGV[1])
                 local current = tonumber(redis.call('HGET', KEYS[1], 'until') or 0)
                 if current < ends then
                   redis.call('HSET', KEYS[1], 'until', string.format('%.0f', ends), 'reason', ARGV[2])
                   redis.call('PEXPIRE', KEYS[1], math.ceil((ends - now) / 1000))
                   return math.ceil(ends - now)
                 end
                 return math.ceil(current - now)",
            ),
            // {µs left, reason}, or {0, ''} when in rotation
            out_for: script(
                "local flag = redis.call('HMGET', KEYS[1], 'until', 'reason')
                 if flag[1] and tonumber(flag[1]) > now then
                   return {math.ceil(tonumber(flag[1]) - now), flag[2]}
                 end
                 return {0, ''}",
            ),
        }
    }
}

/// Whether a slot could be held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewal {
    Renewed,
    /// The slot lapsed before the holder renewed it (the holder was stalled past `slot_ttl`).
    Lapsed,
}

impl SharedTraffic {
    /// Reads the URL; connects on first use.
    pub fn open(url: &str, prefix: &str, slot_ttl: Duration) -> Result<Self, SharedError> {
        Ok(Self {
            client: redis::Client::open(url)?,
            connection: std::sync::Arc::new(tokio::sync::OnceCell::new()),
            prefix: prefix.to_owned(),
            slot_ttl,
            scripts: std::sync::Arc::new(Scripts::new()),
            round_trips: std::sync::Arc::default(),
        })
    }

    /// The connection, made now when there is none yet (bounded: 1 s to connect, 2 s per reply).
    async fn connection(&self) -> Result<ConnectionManager, SharedError> {
        self.round_trips
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let connection = self
            .connection
            .get_or_try_init(|| {
                let config = redis::aio::ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(Duration::from_secs(1)))
                    .set_response_timeout(Some(Duration::from_secs(2)))
                    .set_number_of_retries(1);
                ConnectionManager::new_with_config(self.client.clone(), config)
            })
            .await?;
        Ok(connection.clone())
    }

    /// Requests this process has sent to Redis (`/metrics`: `router_redis_round_trips_total`).
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn slot_ttl(&self) -> Duration {
        self.slot_ttl
    }

    /// Redis answers (`/readyz`).
    pub async fn ping(&self) -> Result<(), SharedError> {
        let mut c = self.connection().await?;
        let _: String = redis::cmd("PING").query_async(&mut c).await?;
        Ok(())
    }

    fn key(&self, parts: &[&str]) -> String {
        let mut key = self.prefix.clone();
        for part in parts {
            key.push(':');
            key.push_str(part);
        }
        key
    }

    /// `Ok(Err(wait))` when the client must wait before its next request.
    pub async fn admit(
        &self,
        client: i64,
        per_second: u32,
        burst: u32,
    ) -> Result<Result<(), Duration>, SharedError> {
        let interval_us = 1_000_000 / u64::from(per_second.max(1));
        let mut c = self.connection().await?;
        let wait_us: i64 = self
            .scripts
            .admit
            .key(self.key(&["admit", &client.to_string()]))
            .arg(interval_us)
            .arg(burst.max(1))
            .invoke_async(&mut c)
            .await?;
        Ok(match u64::try_from(wait_us) {
            Ok(us) => Err(Duration::from_micros(us)),
            Err(_) => Ok(()),
        })
    }

    /// Counts one request across every replica; returns the rates including it.
    pub async fn record(&self) -> Result<Rates, SharedError> {
        self.count(true).await
    }

    pub async fn rates(&self) -> Result<Rates, SharedError> {
        self.count(false).await
    }

    async fn count(&self, add: bool) -> Result<Rates, SharedError> {
        let mut c = self.connection().await?;
        let (rpm, rps10, _, _, _, _): (u32, u32, u64, String, u64, String) = self
            .scripts
            .count
            .key(self.key(&["rates"]))
            .arg(if add { "1" } else { "0" })
            .invoke_async(&mut c)
            .await?;
        Ok(Rates { rpm, rps10 })
    }

    /// Counts one request and reads both backends' rotation in one round trip: all the routing
    /// decision needs.
    pub async fn record_and_rotation(
        &self,
        backends: [&str; 2],
    ) -> Result<(Rates, [Option<(Duration, OutReason)>; 2]), SharedError> {
        let mut c = self.connection().await?;
        let (rpm, rps10, left0, reason0, left1, reason1): (u32, u32, u64, String, u64, String) =
            self.scripts
                .count
                .key(self.key(&["rates"]))
                .key(self.key(&["out", backends[0]]))
                .key(self.key(&["out", backends[1]]))
                .arg("1")
                .invoke_async(&mut c)
                .await?;
        let out = |left: u64, reason: String| {
            (left > 0).then(|| (Duration::from_micros(left), reason_of(&reason)))
        };
        Ok((
            Rates { rpm, rps10 },
            [out(left0, reason0), out(left1, reason1)],
        ))
    }

    /// Takes one of `cap` slots of a backend for `holder` (unique per call) if one is free.
    pub async fn try_acquire(
        &self,
        backend: &str,
        cap: u32,
        holder: &str,
    ) -> Result<bool, SharedError> {
        let mut c = self.connection().await?;
        let held: i32 = self
            .scripts
            .acquire
            .key(self.key(&["slots", backend]))
            .arg(cap)
            .arg(holder)
            .arg(self.ttl_us())
            .invoke_async(&mut c)
            .await?;
        Ok(held == 1)
    }

    /// Pushes the holder's slot's end `slot_ttl` ahead.
    pub async fn renew(&self, backend: &str, holder: &str) -> Result<Renewal, SharedError> {
        let mut c = self.connection().await?;
        let renewed: i32 = self
            .scripts
            .renew
            .key(self.key(&["slots", backend]))
            .arg(holder)
            .arg(self.ttl_us())
            .invoke_async(&mut c)
            .await?;
        Ok(if renewed == 1 {
            Renewal::Renewed
        } else {
            Renewal::Lapsed
        })
    }

    pub async fn release(&self, backend: &str, holder: &str) -> Result<(), SharedError> {
        let mut c = self.connection().await?;
        let _: i64 = redis::cmd("ZREM")
            .arg(self.key(&["slots", backend]))
            .arg(holder)
            .query_async(&mut c)
            .await?;
        Ok(())
    }

    /// Slots held now by every replica.
    pub async fn in_flight(&self, backend: &str) -> Result<u32, SharedError> {
        let mut c = self.connection().await?;
        Ok(self
            .scripts
            .holders
            .key(self.key(&["slots", backend]))
            .invoke_async(&mut c)
            .await?)
    }

    /// Takes a backend out of rotation for every replica for `wait` (a later end already set
    /// stays). Returns how long it is out.
    pub async fn take_out(
        &self,
        backend: &str,
        wait: Duration,
        reason: OutReason,
    ) -> Result<Duration, SharedError> {
        let mut c = self.connection().await?;
        let left_us: u64 = self
            .scripts
            .take_out
            .key(self.key(&["out", backend]))
            .arg(
                u64::try_from(wait.as_micros())
                    .unwrap_or(u64::MAX / 2)
                    .max(1),
            )
            .arg(reason_name(reason))
            .invoke_async(&mut c)
            .await?;
        Ok(Duration::from_micros(left_us))
    }

    /// `None` when the backend is in rotation; else how long until it is back, and why.
    pub async fn out_for(
        &self,
        backend: &str,
    ) -> Result<Option<(Duration, OutReason)>, SharedError> {
        let mut c = self.connection().await?;
        let (left, reason): (u64, String) = self
            .scripts
            .out_for
            .key(self.key(&["out", backend]))
            .invoke_async(&mut c)
            .await?;
        if left == 0 {
            return Ok(None);
        }
        let reason = reason_of(&reason);
        Ok(Some((Duration::from_micros(left), reason)))
    }

    /// Counts one of the backend's errors on `day` (UTC, `YYYY-MM-DD`); returns the day's count.
    pub async fn count_error(&self, backend: &str, day: &str) -> Result<u32, SharedError> {
        let key = self.key(&["errors", backend, day]);
        let mut c = self.connection().await?;
        let (count, _): (u32, i64) = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg(&key)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(2 * 86_400)
            .query_async(&mut c)
            .await?;
        Ok(count)
    }

    pub async fn errors_on(&self, backend: &str, day: &str) -> Result<u32, SharedError> {
        let mut c = self.connection().await?;
        let count: Option<u32> = redis::cmd("GET")
            .arg(self.key(&["errors", backend, day]))
            .query_async(&mut c)
            .await?;
        Ok(count.unwrap_or(0))
    }

    /// Marks an idempotency key as running (for `slot_ttl`, renewed by its holder). `Ok(None)`:
    /// this caller holds it now; `Ok(Some(hash))`: a live request does, with that body's hash.
    pub async fn mark_running(
        &self,
        mark: &str,
        hash: &str,
    ) -> Result<Option<String>, SharedError> {
        let mut c = self.connection().await?;
        Ok(self
            .scripts
            .mark
            .key(self.key(&["idempotency", mark]))
            .arg(hash)
            .arg(self.ttl_ms())
            .invoke_async(&mut c)
            .await?)
    }

    pub async fn renew_mark(&self, mark: &str) -> Result<(), SharedError> {
        let mut c = self.connection().await?;
        let _: i64 = redis::cmd("PEXPIRE")
            .arg(self.key(&["idempotency", mark]))
            .arg(self.ttl_ms())
            .query_async(&mut c)
            .await?;
        Ok(())
    }

    pub async fn clear_mark(&self, mark: &str) -> Result<(), SharedError> {
        let mut c = self.connection().await?;
        let _: i64 = redis::cmd("DEL")
            .arg(self.key(&["idempotency", mark]))
            .query_async(&mut c)
            .await?;
        Ok(())
    }

    fn ttl_ms(&self) -> u64 {
        u64::try_from(self.slot_ttl.as_millis())
            .unwrap_or(u64::MAX / 2)
            .max(1)
    }

    fn ttl_us(&self) -> u64 {
        u64::try_from(self.slot_ttl.as_micros())
            .unwrap_or(u64::MAX / 2)
            .max(1_000)
    }
}

fn reason_of(name: &str) -> OutReason {
    if name == reason_name(OutReason::DailyLimit) {
        OutReason::DailyLimit
    } else {
        OutReason::Quota
    }
}

fn reason_name(reason: OutReason) -> &'static str {
    match reason {
        OutReason::Quota => "quota",
        OutReason::DailyLimit => "daily_limit",
    }
}
