//! `Vec::remove` and `Vec::insert` without their panic paths. Both assert the index and link a
//! message and a source location into the module's data even where the caller has checked it
//! (neither is inlined at the size profile). These return `None` or append instead, and move
//! the elements with adjacent swaps: the lists they serve (batches, requests in flight) hold
//! tens of elements.

/// Removes and returns the element at `pos`, keeping the order of the rest; `None` when there
/// is none.
pub fn take_at<T>(v: &mut Vec<T>, pos: usize) -> Option<T> {
    if pos >= v.len() {
        return None;
    }
    // Moves it to the end, one swap at a time, then pops it.
    for i in pos..v.len() - 1 {
        if let Some([a, b]) = v.get_mut(i..i + 2) {
            std::mem::swap(a, b);
        }
    }
    v.pop()
}

/// Inserts `item` at `pos`, shifting the elements after it; at the end when `pos` is past it.
pub fn put_at<T>(v: &mut Vec<T>, pos: usize, item: T) {
    v.push(item);
    // Moves it from the end back to `pos`, one swap at a time.
    for i in (pos..v.len() - 1).rev() {
        if let Some([a, b]) = v.get_mut(i..i + 2) {
            std::mem::swap(a, b);
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn take_at_agrees_with_remove(v in proptest::collection::vec(0u8..50, 0..12), pos in 0usize..14) {
            let mut ours = v.clone();
            let mut std = v.clone();
            let expected = (pos < std.len()).then(|| std.remove(pos));
            prop_assert_eq!(take_at(&mut ours, pos), expected);
            prop_assert_eq!(ours, std);
        }

        #[test]
        fn put_at_agrees_with_insert(v in proptest::collection::vec(0u8..50, 0..12), pos in 0usize..14, x in 50u8..) {
            let mut ours = v.clone();
            let mut std = v.clone();
            std.insert(pos.min(std.len()), x);
            put_at(&mut ours, pos, x);
            prop_assert_eq!(ours, std);
        }
    }
}
