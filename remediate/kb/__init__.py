"""KB importer: read a Knowledge Base article (text, markdown or saved HTML) and extract its
facts (article, title, products, symptom events, fix table, fixing service pack), then draft
a playbook from them for a human to review.

Everything here is regular expressions over the article text; nothing is fetched. The flow,
one module per step:

- `read`: the article file to text (encodings, saved HTML) and its headed sections;
- `extract`: text to `ArticleFacts` (events and error codes, products, fix table, fixed_in);
- `procedure`: the RESOLUTION's numbered or bulleted procedure to remediation steps
  (components, services, reboots, a program run from the Exchange folder; the rest manual);
- `draft`: facts to the JSON printed by `kb import`, and to a draft playbook (dict, YAML).
"""
