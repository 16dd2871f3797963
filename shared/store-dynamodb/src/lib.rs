//! The store ports on DynamoDB (issue 7), conditional writes and transactions as the ports say.
