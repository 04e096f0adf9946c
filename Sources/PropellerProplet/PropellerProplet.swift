// The proplet service. Built in the proplet issue.
