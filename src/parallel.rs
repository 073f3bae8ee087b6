//! Running independent pieces of work on every core of the machine, results in order.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Native stack for each helper thread, as much as the main thread has: the parser recurses
/// once per bracket level (at most 64), and so do the steps after it.
const STACK_SIZE: usize = 8 * 1024 * 1024;

/// How many threads the machine offers.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `f` over `items` on up to [`threads`] threads (this one among them), results in order.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads();
    if threads <= 1 || items.len() <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else { return done };
            done.push((i, f(item)));
        }
    };
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads.min(items.len()))
            .filter_map(|_| std::thread::Builder::new().stack_size(STACK_SIZE).spawn_scoped(scope, work).ok())
            .collect();
        let mut results = work();
        for helper in helpers {
            // A helper that panicked re-raises its panic here, as a panic in this thread would.
            match helper.join() {
                Ok(done) => results.extend(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        results
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// `f` over `items` cut into a few slices per thread; the results of each slice in order.
pub fn map_chunks<T: Sync, R: Send>(items: &[T], f: impl Fn(&[T]) -> R + Sync) -> Vec<R> {
    let chunk = items.len().div_ceil(2 * threads()).max(1);
    let chunks: Vec<&[T]> = items.chunks(chunk).collect();
    map(&chunks, |c| f(c))
}

/// Drops `items` on up to [`threads`] threads: freeing a large syntax tree is hundreds of
/// thousands of deallocations.
pub fn drop_all<T: Send>(mut items: Vec<T>) {
    let chunk = items.len().div_ceil(threads()).max(1);
    std::thread::scope(|scope| {
        while items.len() > chunk {
            let part = items.split_off(items.len() - chunk);
            // When no thread can be started, the part is dropped here, with the closure.
            let _ = std::thread::Builder::new().spawn_scoped(scope, move || drop(part));
        }
        drop(items);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_order() {
        let items: Vec<u64> = (0..1000).collect();
        assert_eq!(map(&items, |i| i * 2), items.iter().map(|i| i * 2).collect::<Vec<_>>());
        let sums = map_chunks(&items, |c| c.iter().sum::<u64>());
        assert_eq!(sums.iter().sum::<u64>(), items.iter().sum::<u64>());
        assert!(map(&Vec::<u64>::new(), |i| *i).is_empty());
    }

    #[test]
    fn every_item_is_dropped() {
        let counter = std::sync::Arc::new(());
        let items: Vec<_> = (0..1000).map(|_| std::sync::Arc::clone(&counter)).collect();
        drop_all(items);
        assert_eq!(std::sync::Arc::strong_count(&counter), 1);
        drop_all(Vec::<String>::new());
    }
}
