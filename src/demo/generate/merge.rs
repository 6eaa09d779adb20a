//! Merging days into one time-ordered stream: days are produced one after another and items
//! wait in a heap until no later day can produce an earlier one.

use super::world::World;
use chrono::{DateTime, Utc};
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::Arc;

type Producer<T> = fn(&World, usize) -> Vec<(DateTime<Utc>, T)>;

/// Produces day after day and releases an item once no later day can produce an earlier one:
/// a day's items never start before the day does.
pub(super) struct Ordered<T> {
    pub(super) world: Arc<World>,
    produce: Producer<T>,
    next_day: usize,
    seq: u64,
    heap: BinaryHeap<Reverse<Slot<T>>>,
}

struct Slot<T> {
    pub(super) at: DateTime<Utc>,
    /// Production order breaks ties, so equal instants keep a stable order.
    seq: u64,
    item: T,
}

impl<T> PartialEq for Slot<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl<T> Eq for Slot<T> {}

impl<T> PartialOrd for Slot<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Slot<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

impl<T> Ordered<T> {
    pub(super) fn new(world: Arc<World>, produce: Producer<T>) -> Self {
        Ordered {
            world,
            produce,
            next_day: 0,
            seq: 0,
            heap: BinaryHeap::new(),
        }
    }
}

impl<T> Iterator for Ordered<T> {
    type Item = (DateTime<Utc>, T);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let horizon = self.world.days.get(self.next_day).map(|d| d.start);
            if let Some(Reverse(top)) = self.heap.peek()
                && horizon.is_none_or(|h| top.at < h)
            {
                let Reverse(slot) = self.heap.pop()?;
                return Some((slot.at, slot.item));
            }
            let start = horizon?;
            for (at, item) in (self.produce)(&self.world, self.next_day) {
                debug_assert!(at >= start, "a day's items start within the day");
                self.seq += 1;
                self.heap.push(Reverse(Slot {
                    at,
                    seq: self.seq,
                    item,
                }));
            }
            self.next_day += 1;
        }
    }
}
