//! The lienthong server: its HTTP routes (the agency callbacks and health today; the REST
//! API, authentication and the work queues come next).

pub mod http;
