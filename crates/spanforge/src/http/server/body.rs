//! [`ResponseBody`]: ends the span when the last byte has gone out.

use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::future::Pending;

pin_project! {
    /// The response body of an instrumented request. The request's span ends when this
    /// body reports its end (or is dropped, e.g. when the client disconnects mid-stream).
    pub struct ResponseBody<B> {
        #[pin]
        inner: B,
        pending: Option<Pending>,
    }

    impl<B> PinnedDrop for ResponseBody<B> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(pending) = this.project().pending.take() {
                let completed = pending.empty_body;
                pending.finish(completed);
            }
        }
    }
}

impl<B> ResponseBody<B> {
    pub(crate) fn traced(inner: B, mut pending: Pending) -> Self
    where
        B: Body,
    {
        // An empty body is never polled: dropping it completes the response.
        pending.empty_body = inner.is_end_stream();
        ResponseBody {
            inner,
            pending: Some(pending),
        }
    }

    pub(crate) fn untraced(inner: B) -> Self {
        ResponseBody {
            inner,
            pending: None,
        }
    }
}

impl<B: Body> Body for ResponseBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let mut inner = this.inner;
        let polled = inner.as_mut().poll_frame(cx);
        if let Some(pending) = this.pending.as_mut() {
            match &polled {
                Poll::Ready(Some(Ok(frame))) => {
                    if let Some(data) = frame.data_ref() {
                        pending.body_bytes += bytes::Buf::remaining(data) as u64;
                    }
                    // The server stops polling once the body says it has ended.
                    if inner.is_end_stream()
                        && let Some(pending) = this.pending.take()
                    {
                        pending.finish(true);
                    }
                }
                Poll::Ready(None) => {
                    if let Some(pending) = this.pending.take() {
                        pending.finish(true);
                    }
                }
                Poll::Ready(Some(Err(_))) => {
                    if let Some(pending) = this.pending.take() {
                        use opentelemetry::trace::{Status, TraceContextExt};
                        pending
                            .cx
                            .span()
                            .set_status(Status::error("response body failed"));
                        pending.finish(false);
                    }
                }
                Poll::Pending => {}
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
