//! Work split across the machine's cores, with results in input order (so output never depends
//! on the number of cores), on threads with the same large stack as the main one.

use std::num::NonZeroUsize;
use std::sync::OnceLock;

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
    // Asked once: the answer reads the cgroup's CPU quota from /sys on every call.
    static CORES: OnceLock<usize> = OnceLock::new();
    let cores =
        *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get));
    let threads = cores.min(items.len() / min_chunk.max(1)).max(1);
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
}
