import PropellerCore

// The response bodies are the public types of PropellerCore (`APIResponses.swift`), shared with the CLI
// and the tests; these names keep the routes readable.
typealias TaskPageBody = TaskPage
typealias PropletPageBody = PropletPage
typealias ResultsBody = TaskResults
typealias TaskSamplesBody = TaskMetricsPage
typealias PropletSamplesBody = PropletMetricsPage
typealias HealthBody = HealthStatus
