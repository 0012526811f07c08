// The embedded default configuration, compiled into the binary so that
// `cordon run` and `cordon scan` work without a file. It is the same text as
// examples/default.yaml (a test keeps the two identical) and goes through
// the same loader as any file.
#include "config/config.hpp"

namespace cordon::config {

std::string_view default_config_yaml() {
  static constexpr std::string_view kText = R"yaml(
# cordon's embedded default configuration (the same text is compiled into
# the binary; `cordon run` without --config uses it). Everything listens on
# loopback: a gateway, a DLP server in reflect mode, and the console.
data_dir: ./cordon-data
incidents: sqlite

gateway:
  listen: 127.0.0.1:2525
  resubmit_listen: 127.0.0.1:10026
  relay_networks: [127.0.0.0/8, "::1/128"]
  dlp:
    hosts: [127.0.0.1:10025]
    connect_timeout: 5s
    session_timeout: 30s
    tls: none
    bypass: true
  deliver: maildir
  retry: {schedule: [1m, 5m, 15m, 1h], max_lifetime: 24h}

prevent:
  listen: 127.0.0.1:10025
  mode: reflect
  next_hop: 127.0.0.1:10026
  block_reply: {code: 550, enhanced: 5.7.0, max_reply_bytes: 1000, max_line_bytes: 512}
  filters: {sender: "", recipient: ""}

console:
  listen: 127.0.0.1:8025

# The built-in policy pack: each blocks the message and tells the sender why.
policies:
  - name: Payment card numbers
    severity: high
    match:
      any:
        - identifier: credit_card
    respond:
      - block: "Your message was not sent: it contains a payment card number. Remove the card number and send it again."

  - name: US Social Security numbers
    severity: high
    match:
      any:
        - identifier: us_ssn
    respond:
      - block: "Your message was not sent: it contains a US Social Security number. Remove it and send the message again."

  - name: Bank account numbers (IBAN)
    severity: medium
    match:
      any:
        - identifier: iban
    respond:
      - block: "Your message was not sent: it contains a bank account number (IBAN). Share account details through an approved channel."

  - name: Private keys
    severity: high
    match:
      any:
        - identifier: private_key
    respond:
      - block: "Your message was not sent: it contains a private key. Never send keys by email; rotate the key if it was shared."

  - name: AWS access keys
    severity: high
    match:
      any:
        - identifier: aws_access_key
    respond:
      - block: "Your message was not sent: it contains an AWS access key. Never send credentials by email; rotate the key if it was shared."

  - name: Password-protected attachments
    severity: high
    components: [attachments]
    match:
      any:
        - attachment: {encrypted: true}
    respond:
      - block: "Your message was not sent: a password-protected attachment cannot be checked. Send the file without a password, or through an approved channel."

# Content that cannot be read (encrypted, nested or split past the MIME
# limits, undecodable) is blocked with a reply naming it.
on_unscannable: block
)yaml";
  return kText.substr(1);  // drop the newline that follows the opening delimiter
}

}  // namespace cordon::config
