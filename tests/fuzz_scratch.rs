use rekcon::api::{Operation, Request};
use rekcon::check;
use rekcon::model::{Model, ModelConfig};
use rekcon::serve::{InProcess, ServeConfig};
use serde_json::json;
use std::time::Instant;
#[test]
fn index_cost() {
    for img in ["alice-1", "alice-many-50", "group-three"] {
        let bytes = std::fs::read(format!("scenarios/images/{img}.png")).unwrap();
        let b64 = rekcon::api::Blob::new(bytes).to_base64();
        let mut core = InProcess::new(&ServeConfig::default());
        let mut model = Model::new(ModelConfig {
            region: Some("us-east-1".into()),
            account: Some("123456789012".into()),
            ..Default::default()
        });
        let create = Request::from_json(Operation::CreateCollection, &json!({"CollectionId": "c"})).unwrap();
        let raw = core.call(&Operation::CreateCollection.target(), create.to_json().to_string().as_bytes());
        let w = check::wire(&raw, Some(Operation::CreateCollection)).unwrap();
        let a = model.allowed(&create);
        model.observe(&create, &a, w.observed.as_ref().unwrap());
        let n = 20;
        let (mut t_req, mut t_core, mut t_allowed, mut t_wire, mut t_obs) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for _ in 0..n {
            let t = Instant::now();
            let r = Request::from_json(
                Operation::IndexFaces,
                &json!({"CollectionId": "c", "Image": {"Bytes": b64}}),
            )
            .unwrap();
            let body = r.to_json().to_string();
            t_req += t.elapsed().as_secs_f64();
            let t = Instant::now();
            let allowed = model.allowed(&r);
            t_allowed += t.elapsed().as_secs_f64();
            let t = Instant::now();
            let raw = core.call(&Operation::IndexFaces.target(), body.as_bytes());
            t_core += t.elapsed().as_secs_f64();
            let t = Instant::now();
            let w = check::wire(&raw, Some(Operation::IndexFaces)).unwrap();
            t_wire += t.elapsed().as_secs_f64();
            let t = Instant::now();
            let j = model.observe(&r, &allowed, w.observed.as_ref().unwrap());
            t_obs += t.elapsed().as_secs_f64();
            assert!(j.conforms(), "{:?}", j.mismatches);
        }
        let us = |x: f64| x * 1e6 / n as f64;
        println!(
            "{img}: request {:.0}µs allowed {:.0}µs core {:.0}µs wire {:.0}µs observe {:.0}µs",
            us(t_req),
            us(t_allowed),
            us(t_core),
            us(t_wire),
            us(t_obs)
        );
    }
}
