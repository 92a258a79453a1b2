//! The Mimecast API client: what Mimecast means, and nothing about how to show it.
//!
//! Policy: this layer never prints and knows nothing of Rhai or the terminal. It speaks the
//! envelope, authenticates with either scheme, pages to the end, retries what is safe to
//! retry and reports through [`events::Observer`]; every failure is an [`ApiError`].

pub mod auth;
pub mod budget;
pub mod client;
pub mod discover;
pub mod envelope;
pub mod error;
pub mod events;
pub mod groups;
pub mod ids;
pub mod model;
pub mod options;
pub mod pager;
pub mod paths;
pub mod retry;
pub mod signer;
pub mod stop;
pub mod token;
pub mod transport;
pub mod users;

pub use auth::{Credentials, Secret};
pub use budget::RateSnapshot;
pub use client::{Client, Kind};
pub use error::{ApiError, Failure};
pub use model::{Domain, Group, Member, User};
pub use options::ClientOptions;
pub use stop::Stop;
