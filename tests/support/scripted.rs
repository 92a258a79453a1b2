//! A server that answers from a script: for protocol cases an honest server never produces.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderMap, Response, StatusCode, Uri};
use axum::routing::any;
use axum::Router;

/// One canned answer.
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Canned {
    pub fn json(status: u16, body: &str) -> Canned {
        Canned {
            status,
            headers: vec![],
            body: body.to_string(),
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Canned {
        self.headers.push((name, value.to_string()));
        self
    }
}

/// A request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub authorization: String,
    pub body: String,
}

type Script = dyn Fn(&str, &str, &str, usize) -> Canned + Send + Sync;

/// A running scripted server: `script(path, authorization, n)` answers the n-th request (from 0).
pub struct Scripted {
    pub base_url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Scripted {
    pub fn start(script: impl Fn(&str, &str, usize) -> Canned + Send + Sync + 'static) -> Scripted {
        Scripted::start_with_body(move |path, auth, _body, n| script(path, auth, n))
    }

    /// Like [`Scripted::start`], with the request body given to the script too.
    pub fn start_with_body(
        script: impl Fn(&str, &str, &str, usize) -> Canned + Send + Sync + 'static,
    ) -> Scripted {
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let script: Arc<Script> = Arc::new(script);
        let seen2 = seen.clone();
        let app = Router::new().fallback(any(move |uri: Uri, headers: HeaderMap, body: String| {
            let seen = seen2.clone();
            let script = script.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let n = {
                    let mut s = seen.lock().unwrap();
                    s.push(Seen {
                        path: uri.path().to_string(),
                        authorization: auth.clone(),
                        body: body.clone(),
                    });
                    s.len() - 1
                };
                let canned = script(uri.path(), &auth, &body, n);
                let mut resp = Response::new(Body::from(canned.body));
                *resp.status_mut() = StatusCode::from_u16(canned.status).unwrap();
                for (k, v) in canned.headers {
                    resp.headers_mut().insert(k, v.parse().unwrap());
                }
                resp
            }
        }));
        let (base_url, stop) = serve(app);
        Scripted {
            base_url,
            seen,
            _stop: stop,
        }
    }

    /// A server whose token endpoint works and whose API answers declare and stream 1 GB: a
    /// client must stop reading at its bound, not hold the body.
    pub fn huge_body() -> Scripted {
        use axum::body::Bytes;
        use axum::routing::post;
        let app = Router::new()
            .route(
                "/oauth/token",
                post(|| async { "{\"access_token\":\"t\",\"expires_in\":1799}" }),
            )
            .fallback(|| async {
                let chunk = Bytes::from(vec![b' '; 1 << 20]);
                let stream = futures_util::stream::iter(
                    (0..1024).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
                );
                Response::builder()
                    .header("content-length", (1u64 << 30).to_string())
                    .body(Body::from_stream(stream))
                    .unwrap()
            });
        let (base_url, stop) = serve(app);
        Scripted {
            base_url,
            seen: Arc::default(),
            _stop: stop,
        }
    }

    /// The requests seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// How many requests went to `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.seen().iter().filter(|s| s.path == path).count()
    }
}

/// A page of `get-internal-users` with `emails` and an optional `next` token.
pub fn users_page(emails: &[&str], next: Option<&str>) -> String {
    let users: Vec<serde_json::Value> = emails
        .iter()
        .map(|e| serde_json::json!({ "emailAddress": e }))
        .collect();
    let mut pagination = serde_json::json!({ "pageSize": emails.len() });
    if let Some(n) = next {
        pagination["next"] = serde_json::json!(n);
    }
    serde_json::json!({ "meta": { "status": 200, "pagination": pagination }, "data": [{ "users": users }], "fail": [] })
        .to_string()
}

/// Serves `app` on 127.0.0.1 from a thread of its own until the returned sender is dropped.
fn serve(app: Router) -> (String, tokio::sync::oneshot::Sender<()>) {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            ready_tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                })
                .await
                .unwrap();
        });
    });
    (format!("http://{}", ready_rx.recv().unwrap()), stop_tx)
}
