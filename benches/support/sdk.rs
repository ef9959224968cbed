//! A bare aws-sdk-rekognition client for the benches: fixed dummy credentials, no
//! harness around it.

use aws_sdk_rekognition::Client;
use aws_sdk_rekognition::config::{BehaviorVersion, Builder, Credentials, Region};

/// A client of the endpoint at `url`.
pub fn client(url: &str) -> Client {
    let config = Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDBENCH", "bench-secret", None, None, "bench"))
        .build();
    Client::from_conf(config)
}
