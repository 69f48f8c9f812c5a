//! A fixed set of workers (each owning its model sessions, since `run` needs `&mut`) lent out
//! one caller at a time. Callers block until a worker is free: the pool size is the engine's
//! concurrency limit.

use std::sync::{Condvar, Mutex, PoisonError};

#[derive(Debug)]
pub struct Pool<T> {
    idle: Mutex<Vec<T>>,
    returned: Condvar,
    size: usize,
}

impl<T> Pool<T> {
    pub fn new(members: Vec<T>) -> Self {
        Self {
            size: members.len(),
            idle: Mutex::new(members),
            returned: Condvar::new(),
        }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Runs `f` with a free worker, waiting for one if all are busy. The worker goes back to the
    /// pool afterwards, also when `f` panics.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut lease = Lease {
            pool: self,
            member: Some(self.take()),
        };
        // `take` always yields a member and only `Drop` removes it again.
        match lease.member.as_mut() {
            Some(member) => f(member),
            None => unreachable!("a lease holds its member until dropped"),
        }
    }

    fn take(&self) -> T {
        // Members are plain values moved in and out whole; a panic cannot leave one half-moved.
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(member) = idle.pop() {
                return member;
            }
            idle = self
                .returned
                .wait(idle)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

struct Lease<'a, T> {
    pool: &'a Pool<T>,
    member: Option<T>,
}

impl<T> Drop for Lease<'_, T> {
    fn drop(&mut self) {
        if let Some(member) = self.member.take() {
            self.pool
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(member);
            self.pool.returned.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn never_lends_more_workers_than_it_has() {
        let pool = Arc::new(Pool::new(vec![0u32, 0u32]));
        let busy = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (pool, busy, peak) = (pool.clone(), busy.clone(), peak.clone());
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        pool.with(|count| {
                            let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
                            peak.fetch_max(now, Ordering::SeqCst);
                            *count += 1;
                            std::thread::sleep(std::time::Duration::from_micros(200));
                            busy.fetch_sub(1, Ordering::SeqCst);
                        });
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2);
        let total: u32 = pool.idle.lock().unwrap().iter().sum();
        assert_eq!(total, 160);
    }

    #[test]
    fn a_panicking_caller_returns_its_worker() {
        let pool = Pool::new(vec![1u8]);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.with(|_| panic!("boom"));
        }));
        assert!(result.is_err());
        assert_eq!(pool.with(|v| *v), 1);
    }
}
