//! Work split across the machine's cores, with results in input order (so output never depends
//! on the number of cores), on threads with the same large stack as the main one.

use std::num::NonZeroUsize;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::thread::{Scope, ScopedJoinHandle};

/// The stack of every bpsheet thread: deeply nested input is checked iteratively where it can
/// be, but printing and dropping deep expressions is recursive.
pub const STACK_BYTES: usize = 512 << 20;

/// `work` applied to consecutive chunks of `items`, one chunk per core, the results in chunk
/// order. Fewer than `min_chunk` items a core are not worth a thread: they run on the caller's.
pub fn map_chunks<T: Sync, R: Send>(
    items: &[T],
    min_chunk: usize,
    work: impl Fn(&[T]) -> R + Sync,
) -> Vec<R> {
    let threads = threads_for(items.len(), min_chunk);
    if threads == 1 {
        return vec![work(items)];
    }
    let chunk = items.len().div_ceil(threads);
    let work = &work;
    let mut parts = items.chunks(chunk);
    let first = parts.next().expect("there is at least one item a thread");
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts.map(|part| spawn(scope, move || work(part))).collect();
        // The caller takes the first chunk: one thread fewer to start, and its allocator's
        // memory, freed by the stages before, is reused instead of fresh pages.
        let mut results = vec![work(first)];
        results.extend(handles.into_iter().map(join));
        results
    })
}

/// `work` applied to consecutive chunks of `items` of about equal cost, one per core, the
/// results in chunk order; `cost[i]` is item i's. Fewer than `min_per_thread` items a core are
/// not worth a thread.
pub fn map_balanced<T: Sync, R: Send>(
    items: &[T],
    cost: &[usize],
    min_per_thread: usize,
    work: impl Fn(&[T]) -> R + Sync,
) -> Vec<R> {
    let ranges = balanced_ranges(cost, items.len() / min_per_thread.max(1));
    map_chunks(&ranges, 1, |ranges| {
        work(&items[ranges[0].start..ranges[ranges.len() - 1].end])
    })
}

/// At most `n` (at least one) consecutive ranges of the indices of `work`, each with about the
/// same total: `map_chunks` splits its items by count, and ranges of equal work as items split
/// the work evenly, in order.
fn balanced_ranges(work: &[usize], n: usize) -> Vec<Range<usize>> {
    let n = n.max(1);
    let total: usize = work.iter().sum();
    let mut ranges = Vec::with_capacity(n);
    let (mut start, mut done) = (0, 0);
    for (i, &w) in work.iter().enumerate() {
        done += w;
        // Close a range where the running total passes the next multiple of total / n.
        if ranges.len() + 1 < n && done * n >= total * (ranges.len() + 1) {
            ranges.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < work.len() || ranges.is_empty() {
        ranges.push(start..work.len());
    }
    ranges
}

/// `work` applied to consecutive pieces of `piece` items, each handed to the next core that
/// comes free (so pieces of uneven cost still keep every core busy), the results in piece
/// order. Each thread makes one `state` and keeps it for every piece it takes; the states come
/// back too, in no particular order. Fewer than `min_per_thread` items a core are not worth a
/// thread.
pub fn map_pieces<T: Sync, S: Send, R: Send>(
    items: &[T],
    piece: usize,
    min_per_thread: usize,
    state: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, &[T]) -> R + Sync,
) -> (Vec<R>, Vec<S>) {
    let mut results = Vec::with_capacity(items.len().div_ceil(piece.max(1)));
    let states = for_each_piece(items, piece, min_per_thread, state, work, |result| {
        results.push(result);
        Ok::<(), std::convert::Infallible>(())
    });
    match states {
        Ok(states) => (results, states),
        Err(never) => match never {},
    }
}

/// `map_pieces`, with each result handed to `consume` on the calling thread, in piece order, as
/// soon as it and every one before it are done (the caller takes pieces too, and consumes
/// between them): writing the results overlaps making the rest. When `consume` fails no new
/// piece is started, and its error is returned once the pieces under way are done.
pub fn for_each_piece<T: Sync, S: Send, R: Send, E>(
    items: &[T],
    piece: usize,
    min_per_thread: usize,
    state: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, &[T]) -> R + Sync,
    mut consume: impl FnMut(R) -> Result<(), E>,
) -> Result<Vec<S>, E> {
    let pieces: Vec<&[T]> = items.chunks(piece.max(1)).collect();
    let count = pieces.len();
    let next = AtomicUsize::new(0);
    let claim = || {
        let index = next.fetch_add(1, Ordering::Relaxed);
        (index < count).then_some(index)
    };
    let done: Mutex<Vec<Option<R>>> = Mutex::new((0..count).map(|_| None).collect());
    let ready = Condvar::new();
    let slots = || done.lock().unwrap_or_else(PoisonError::into_inner);
    // Set by a worker that panics, so that the caller stops waiting for its piece and the
    // panic reaches the caller through `join`.
    let failed_worker = AtomicBool::new(false);
    let worker = || {
        struct Unwinding<'a>(&'a AtomicBool, &'a Condvar);
        impl Drop for Unwinding<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.store(true, Ordering::Relaxed);
                    self.1.notify_all();
                }
            }
        }
        let _unwinding = Unwinding(&failed_worker, &ready);
        let mut state = state();
        while let Some(index) = claim() {
            let result = work(&mut state, pieces[index]);
            slots()[index] = Some(result);
            ready.notify_all();
        }
        state
    };
    let threads = threads_for(items.len(), min_per_thread).min(count.max(1));
    std::thread::scope(|scope| {
        let handles: Vec<_> = (1..threads).map(|_| spawn(scope, worker)).collect();
        let mut own = state();
        let mut consumed = 0;
        let mut failed = None;
        while consumed < count && failed.is_none() {
            let ready_now: Vec<R> = {
                let mut slots = slots();
                let mut taken = Vec::new();
                while let Some(result) =
                    slots.get_mut(consumed + taken.len()).and_then(Option::take)
                {
                    taken.push(result);
                }
                taken
            };
            if ready_now.is_empty() {
                match claim() {
                    Some(index) => {
                        let result = work(&mut own, pieces[index]);
                        slots()[index] = Some(result);
                    }
                    // Nothing left to take: wait for the next result in order.
                    None => {
                        let mut slots = slots();
                        while slots[consumed].is_none() {
                            if failed_worker.load(Ordering::Relaxed) {
                                break;
                            }
                            slots = ready.wait(slots).unwrap_or_else(PoisonError::into_inner);
                        }
                        if slots[consumed].is_none() {
                            // A worker panicked: joining it below passes its panic on.
                            break;
                        }
                    }
                }
                continue;
            }
            for result in ready_now {
                consumed += 1;
                if let Err(error) = consume(result) {
                    // No new pieces; the ones under way finish and are dropped.
                    next.store(count, Ordering::Relaxed);
                    failed = Some(error);
                    break;
                }
            }
        }
        let mut states = vec![own];
        states.extend(handles.into_iter().map(join));
        failed.map_or(Ok(states), Err)
    })
}

/// `aside` on a thread of its own while the caller runs `main`: both results.
pub fn beside<A: Send, B>(aside: impl FnOnce() -> A + Send, main: impl FnOnce() -> B) -> (A, B) {
    std::thread::scope(|scope| {
        let handle = spawn(scope, aside);
        let main = main();
        (join(handle), main)
    })
}

/// `work` on a new thread of `scope` with the large stack.
fn spawn<'scope, R: Send + 'scope>(
    scope: &'scope Scope<'scope, '_>,
    work: impl FnOnce() -> R + Send + 'scope,
) -> ScopedJoinHandle<'scope, R> {
    std::thread::Builder::new()
        .stack_size(STACK_BYTES)
        .spawn_scoped(scope, work)
        .expect("a thread can be started")
}

/// The thread's result, or its panic passed on to the caller.
fn join<R>(handle: ScopedJoinHandle<'_, R>) -> R {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Threads for `items` when fewer than `min_per_thread` a core are not worth one.
fn threads_for(items: usize, min_per_thread: usize) -> usize {
    // Asked once: the answer reads the cgroup's CPU quota from /sys on every call.
    static CORES: OnceLock<usize> = OnceLock::new();
    let cores =
        *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get));
    cores.min(items / min_per_thread.max(1)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_input_order_whatever_the_split() {
        let items: Vec<u32> = (0..10_000).collect();
        for min_chunk in [1, 7, 5_000, 20_000] {
            let parts = map_chunks(&items, min_chunk, |part| part.to_vec());
            assert_eq!(parts.concat(), items, "min_chunk {min_chunk}");
        }
        assert_eq!(map_chunks(&[] as &[u32], 1, <[u32]>::len), vec![0]);
    }

    /// Balanced ranges cover every index once, in order, and none holds much more than its
    /// share of the work.
    #[test]
    fn balanced_ranges_split_work_evenly_in_order() {
        let mut rng = crate::graph::sample::Rng::new(0xba1a_4ced_0000_0006_u64);
        for _ in 0..500 {
            let len = (rng.next_u64() % 300) as usize;
            let work: Vec<usize> = (0..len)
                .map(|_| match rng.next_u64() % 10 {
                    0 => 64,
                    1 => 0,
                    _ => 1,
                })
                .collect();
            let n = (rng.next_u64() % 12) as usize;
            let ranges = balanced_ranges(&work, n);
            assert!(!ranges.is_empty() && ranges.len() <= n.max(1));
            assert_eq!(ranges[0].start, 0);
            assert_eq!(ranges[ranges.len() - 1].end, len);
            assert!(ranges.windows(2).all(|w| w[0].end == w[1].start));
            let total: usize = work.iter().sum();
            for range in &ranges {
                let share: usize = work[range.clone()].iter().sum();
                assert!(share <= total / n.max(1) + 64, "{share} of {total} in {n}");
            }
        }
    }

    #[test]
    fn balanced_chunks_cover_the_items_in_order() {
        let items: Vec<u32> = (0..5_000).collect();
        let cost: Vec<usize> = items
            .iter()
            .map(|&i| if i < 100 { 50 } else { 1 })
            .collect();
        for min_per_thread in [1, 64, 5_000, 10_000] {
            let parts = map_balanced(&items, &cost, min_per_thread, <[u32]>::to_vec);
            assert_eq!(parts.concat(), items, "{min_per_thread} a thread");
        }
        assert_eq!(map_balanced(&[] as &[u32], &[], 1, <[u32]>::len), vec![0]);
    }

    #[test]
    fn pieces_come_in_input_order_and_every_state_is_returned() {
        let items: Vec<u32> = (0..10_000).collect();
        for (piece, min_per_thread) in [(1, 1), (7, 1), (64, 5_000), (20_000, 1), (3, 20_000)] {
            // Uneven costs, so threads take pieces in no fixed order.
            let (parts, states) = map_pieces(
                &items,
                piece,
                min_per_thread,
                || 0usize,
                |taken: &mut usize, part: &[u32]| {
                    *taken += part.len();
                    if part[0].is_multiple_of(97) {
                        std::thread::sleep(std::time::Duration::from_micros(20));
                    }
                    part.to_vec()
                },
            );
            assert_eq!(parts.concat(), items, "pieces of {piece}");
            assert_eq!(
                states.iter().sum::<usize>(),
                items.len(),
                "pieces of {piece}"
            );
            assert!(!states.is_empty() && states.len() <= threads_for(items.len(), 1));
        }
        let (parts, states) = map_pieces(&[] as &[u32], 4, 1, || (), |_, part| part.len());
        assert!(parts.is_empty());
        assert_eq!(states.len(), 1);
    }

    #[test]
    fn a_panicking_piece_reaches_the_caller_instead_of_hanging_it() {
        let items: Vec<u32> = (0..64).collect();
        let caller = std::thread::current().id();
        let outcome = std::panic::catch_unwind(|| {
            for_each_piece(
                &items,
                1,
                1,
                || (),
                |_, part| {
                    // A worker panics on the first piece it takes; the caller, slowed down,
                    // leaves it time to take one.
                    if std::thread::current().id() != caller {
                        panic!("a bug in a piece");
                    }
                    std::thread::sleep(std::time::Duration::from_micros(200));
                    part[0]
                },
                |_| Ok::<(), ()>(()),
            )
        });
        // On one core there is no worker, and nothing panics.
        match outcome {
            Err(panic) => assert_eq!(panic.downcast_ref::<&str>(), Some(&"a bug in a piece")),
            Ok(_) => assert_eq!(threads_for(items.len(), 1), 1),
        }
    }

    #[test]
    fn pieces_are_consumed_in_order_and_a_failure_stops_new_ones() {
        let items: Vec<u32> = (0..5_000).collect();
        let slow = |part: &[u32]| {
            if part[0].is_multiple_of(7) {
                std::thread::sleep(std::time::Duration::from_micros(50));
            }
            part.to_vec()
        };
        let mut seen = Vec::new();
        let states = for_each_piece(
            &items,
            3,
            1,
            || (),
            |_, part| slow(part),
            |part| {
                seen.extend(part);
                Ok::<(), ()>(())
            },
        );
        assert_eq!(states.map(|s| !s.is_empty()), Ok(true));
        assert_eq!(seen, items);

        // On one thread and on all: the first failure is returned, after the pieces before it.
        for min_per_thread in [usize::MAX, 1] {
            let started = AtomicUsize::new(0);
            let mut consumed = 0;
            let result = for_each_piece(
                &items,
                3,
                min_per_thread,
                || (),
                |_, part| {
                    started.fetch_add(1, Ordering::Relaxed);
                    slow(part)
                },
                |part| {
                    consumed += 1;
                    if part[0] >= 300 { Err(part[0]) } else { Ok(()) }
                },
            );
            assert_eq!(result.err(), Some(300));
            assert_eq!(consumed, 101);
            if min_per_thread == usize::MAX {
                // Alone, the caller starts no piece after the one that failed to be written.
                assert_eq!(started.into_inner(), 101);
            }
        }
    }
}
