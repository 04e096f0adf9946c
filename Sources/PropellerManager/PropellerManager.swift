// The manager service. Built in the manager issue.
