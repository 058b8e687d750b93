//! Answers from OpenAI-compatible backends (dagsmith-remote's dispatcher), for runs past one
//! machine.

use std::time::{Duration, Instant};

use dagsmith_core::pipeline::AnswerEnd;
use dagsmith_remote::dispatch::Reply;
use dagsmith_remote::{BackendSpec, ChatParams, Client, Dispatcher, Event, Failure, Options};

use super::record::ModelRecord;
use super::work::{Answered, Outcome, Source, Totals, Work};
use super::{DEFAULT_PARALLEL, Settings};

/// How long the loop waits for an event before it checks for Ctrl-C and logs.
const POLL: Duration = Duration::from_millis(200);

pub struct Remote {
    dispatcher: Dispatcher,
    urls: Vec<String>,
    model_name: Option<String>,
}

impl Remote {
    /// Reads the backends from the arguments and starts discovering them.
    pub fn start(settings: &Settings) -> Result<Remote, String> {
        let args = &settings.args;
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let mut specs = Vec::new();
        for url in &args.backend {
            specs.push(BackendSpec::from_url(url).map_err(|e| format!("--backend: {e}"))?);
        }
        if let Some(path) = &args.backends {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            specs.extend(dagsmith_remote::parse_backends_file(
                &text,
                &path.display().to_string(),
                env,
            )?);
        }
        let key = env("DAGSMITH_API_KEY").or_else(|| env("OPENAI_API_KEY"));
        for spec in &mut specs {
            if spec.api_key.is_none() {
                spec.api_key.clone_from(&key);
            }
            if spec.parallel.is_none() {
                spec.parallel = args.parallel.map(|p| p as usize);
            }
        }
        let mut sorted: Vec<&str> = specs.iter().map(|s| s.url.as_str()).collect();
        sorted.sort_unstable();
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("backend {} is named twice", w[0]));
        }
        let s = &settings.sampling;
        let options = Options {
            params: ChatParams {
                max_tokens: args.max_tokens,
                temperature: s.temperature,
                top_p: s.top_p,
                top_k: s.top_k,
                min_p: s.min_p,
                repeat_penalty: s.repeat_penalty,
                seed: s.seed,
            },
            model_name: args.model_name.clone(),
            default_parallel: DEFAULT_PARALLEL as usize,
            tries: args.tries,
            give_up_after: Duration::from_secs(args.give_up_after),
        };
        let urls = specs.iter().map(|s| s.url.clone()).collect();
        let client = Client::new(Duration::from_secs(args.timeout));
        Ok(Remote {
            dispatcher: Dispatcher::start(client, specs, options),
            urls,
            model_name: args.model_name.clone(),
        })
    }

    pub fn model_record(&self) -> ModelRecord {
        ModelRecord::Remote { name: self.model_name.clone() }
    }

    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    pub fn drive(&mut self, work: &mut dyn Work) -> Totals {
        let started = Instant::now();
        let mut totals = Totals::default();
        let d = &mut self.dispatcher;
        loop {
            if work.stopping() {
                d.cancel_all();
                break;
            }
            while d.has_room() {
                let Some(next) = work.next() else { break };
                let stream_text = work.wants_text();
                d.submit_with_penalty(
                    next.task as u64,
                    next.messages,
                    stream_text,
                    next.repeat_penalty,
                );
            }
            if d.in_flight() == 0 && !work.has_queued() {
                break;
            }
            match d.next_event(POLL) {
                Some(Event::Text { id, text }) => work.text(id as usize, &text),
                Some(Event::Done { id, result }) => {
                    let outcome = match result {
                        Ok(reply) => {
                            totals.prompt_tokens += reply.answer.prompt_tokens.unwrap_or(0) as u64;
                            totals.generated_tokens +=
                                reply.answer.completion_tokens.unwrap_or(0) as u64;
                            Outcome::Answered(answered(reply))
                        }
                        Err(Failure::Rejected(e)) => Outcome::Failed(e),
                        Err(Failure::GaveUp(e)) => Outcome::Dropped(Some(e)),
                    };
                    work.finished(id as usize, outcome);
                }
                Some(Event::Notice(message)) => work.notice(&message),
                Some(Event::AllDown(message)) => {
                    totals.stopped_early = Some(message);
                    break;
                }
                None => {}
            }
            work.tick();
        }
        totals.wall = started.elapsed();
        totals
    }
}

fn answered(reply: Reply) -> Answered {
    let a = reply.answer;
    let finish = a.finish.unwrap_or_else(|| "stop".to_string());
    let end = match finish.as_str() {
        "length" => AnswerEnd::Length,
        // dagsmith serve's runaway guard.
        "repetition" => AnswerEnd::Repetition,
        _ => AnswerEnd::Complete,
    };
    Answered {
        text: a.text,
        end,
        finish,
        prompt_tokens: a.prompt_tokens,
        completion_tokens: a.completion_tokens,
        source: Source::Remote {
            backend: reply.backend,
            model: reply.model,
            latency_ms: a.latency_ms,
            first_token_ms: a.first_token_ms,
            tries: reply.tries,
        },
    }
}
