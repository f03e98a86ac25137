// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title TaskRewards
/// @notice Pays authorised agents an ETH reward once per completed task, from a pool funded by anyone.
contract TaskRewards is Ownable, ReentrancyGuard {
    /// @notice The most one claim may pay, in wei.
    uint256 public maxRewardPerClaim;
    /// @notice Agents allowed to claim.
    mapping(address => bool) public authorizedAgents;
    /// @notice Task ids already paid.
    mapping(bytes32 => bool) public claimed;

    event AgentAuthorized(address indexed agent, bool authorized);
    event MaxRewardChanged(uint256 maxRewardPerClaim);
    event PoolFunded(address indexed from, uint256 amount);
    event RewardClaimed(bytes32 indexed taskId, address indexed recipient, uint256 amount, uint256 timestamp);

    constructor(address initialOwner, uint256 maxRewardPerClaim_) Ownable(initialOwner) {
        maxRewardPerClaim = maxRewardPerClaim_;
    }

    receive() external payable {
        emit PoolFunded(msg.sender, msg.value);
    }

    /// @notice Add ETH to the reward pool.
    function fund() external payable {
        emit PoolFunded(msg.sender, msg.value);
    }

    /// @notice Allow `agent` to claim rewards; only the owner.
    function authorizeAgent(address agent) external onlyOwner {
        authorizedAgents[agent] = true;
        emit AgentAuthorized(agent, true);
    }

    /// @notice Stop `agent` from claiming; only the owner.
    function revokeAgent(address agent) external onlyOwner {
        authorizedAgents[agent] = false;
        emit AgentAuthorized(agent, false);
    }

    /// @notice Change the per-claim cap; only the owner.
    function setMaxRewardPerClaim(uint256 amount) external onlyOwner {
        maxRewardPerClaim = amount;
        emit MaxRewardChanged(amount);
    }

    /// @notice The ETH left in the pool, in wei.
    function poolBalance() external view returns (uint256) {
        return address(this).balance;
    }

    /// @notice Pay the calling agent `amount` wei for task `taskId`, once per task.
    function claimReward(bytes32 taskId, uint256 amount) external nonReentrant {
        require(authorizedAgents[msg.sender], "TaskRewards: agent not authorised");
        require(!claimed[taskId], "TaskRewards: reward already claimed");
        require(amount > 0, "TaskRewards: amount is zero");
        require(amount <= maxRewardPerClaim, "TaskRewards: amount over cap");
        require(address(this).balance >= amount, "TaskRewards: pool too small");
        claimed[taskId] = true;
        (bool sent, ) = payable(msg.sender).call{value: amount}("");
        require(sent, "TaskRewards: payment failed");
        emit RewardClaimed(taskId, msg.sender, amount, block.timestamp);
    }
}
