//! The options that say where Task resources reach (Lambda endpoint, HTTP Task hosts, local
//! commands), shared by every subcommand that runs executions: flatten [`IntegrationArgs`]
//! into a subcommand's arguments and call [`IntegrationArgs::resources`].

use std::path::PathBuf;

use clap::Args;
use expressway::tasks::{ExecConfig, HostAllowList, Integrations, Resources};

#[derive(Args, Clone, Debug, Default)]
pub struct IntegrationArgs {
    /// Base URL of a server speaking the Lambda Invoke API (SAM's start-lambda, LocalStack, …) for
    /// `arn:aws:lambda:…:function:…` and `lambda:invoke` resources.
    #[arg(long, env = "LAMBDA_ENDPOINT", value_name = "URL")]
    pub lambda_endpoint: Option<String>,
    /// Hosts the HTTP Task (`http:invoke`) may call besides loopback, comma-separated
    /// (`*.example.com` allows subdomains; `*` allows every host).
    #[arg(long, value_name = "HOST[,HOST…]")]
    pub http_allow: Option<String>,
    /// JSON file mapping `exec:NAME` resources to local commands (see docs/TASKS.md).
    #[arg(long, value_name = "FILE")]
    pub exec_config: Option<PathBuf>,
}

impl IntegrationArgs {
    /// The resources these options configure; `Err` is a message for a usage error (exit 2).
    pub fn resources(&self, virtual_time: bool) -> Result<Resources, String> {
        let exec = match &self.exec_config {
            Some(path) => Some(ExecConfig::load(path).map_err(|e| e.to_string())?),
            None => None,
        };
        let integrations = Integrations {
            lambda_endpoint: self.lambda_endpoint.clone(),
            http_allow: self.http_allow.as_deref().map(HostAllowList::parse).unwrap_or_default(),
            exec,
            virtual_time,
        };
        integrations.resources().map_err(|e| e.to_string())
    }
}
