//! Work split across the machine's cores, with results in input order (so output never depends
//! on the number of cores), on threads with the same large stack as the main one.

use std::num::NonZeroUsize;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

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
        let handles: Vec<_> = parts
            .map(|part| {
                std::thread::Builder::new()
                    .stack_size(STACK_BYTES)
                    .spawn_scoped(scope, move || work(part))
                    .expect("a thread can be started")
            })
            .collect();
        // The caller takes the first chunk: one thread fewer to start, and its allocator's
        // memory, freed by the stages before, is reused instead of fresh pages.
        let mut results = vec![work(first)];
        results.extend(handles.into_iter().map(|handle| {
            handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        }));
        results
    })
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
    let pieces: Vec<&[T]> = items.chunks(piece.max(1)).collect();
    let next = AtomicUsize::new(0);
    let take = || {
        let mut state = state();
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(piece) = pieces.get(index) else {
                return (done, state);
            };
            done.push((index, work(&mut state, piece)));
        }
    };
    let threads = threads_for(items.len(), min_per_thread).min(pieces.len().max(1));
    let taken = if threads == 1 {
        vec![take()]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (1..threads)
                .map(|_| {
                    std::thread::Builder::new()
                        .stack_size(STACK_BYTES)
                        .spawn_scoped(scope, take)
                        .expect("a thread can be started")
                })
                .collect();
            // The caller takes pieces too (see `map_chunks`).
            let mut taken = vec![take()];
            taken.extend(handles.into_iter().map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            }));
            taken
        })
    };
    let mut results = Vec::with_capacity(pieces.len());
    let mut states = Vec::with_capacity(taken.len());
    for (done, state) in taken {
        results.extend(done);
        states.push(state);
    }
    results.sort_unstable_by_key(|&(index, _)| index);
    (results.into_iter().map(|(_, r)| r).collect(), states)
}

/// `aside` on a thread of its own while the caller runs `main`: both results.
pub fn beside<A: Send, B>(aside: impl FnOnce() -> A + Send, main: impl FnOnce() -> B) -> (A, B) {
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .stack_size(STACK_BYTES)
            .spawn_scoped(scope, aside)
            .expect("a thread can be started");
        let main = main();
        let aside = handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (aside, main)
    })
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
}
